"""``python -m queue_sim`` runs the command-line interface (see ``queue_sim.cli``)."""

from queue_sim.cli import main

raise SystemExit(main())
