"""Subcommands of ``queue-sim`` kept in their own modules (sweep, plot).

Each module has ``HELP``, ``configure(parser)``, ``run(args) -> int`` and
``register(subparsers)``, which adds the subcommand with ``handler=run``.  They import heavy
modules only inside ``run``, so building the parser stays fast.  Top layer: may import anything.
"""
