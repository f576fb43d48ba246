"""Customers who come back: a population layer over the engine (DOMAIN.md 1.5 and 3).

Identified customers visit day after day; each day is one ordinary run of the scenario's
counter through either engine, so the kernel's exactness is untouched.  What each visitor
met (wait, a wrong order, a complaint and how it was handled) sets the chance of coming back
(TARP repurchase figures) and how many people they tell, which moves the arrival rate of new
customers.  Modules: ``day`` (one day's draws keyed by customer id, and what each visitor
met), ``outcomes`` (TARP outcome, retention, word of mouth, value), ``simulate`` (one
replication, day by day), ``summary`` (metrics, CIs, paired values).
"""

from queue_sim.population.simulate import run_population
from queue_sim.population.summary import (
    METRICS,
    PopulationResults,
    measure_x,
    simulate_population,
    summarize_replications,
    value_lost,
    without_wrong_orders,
)

__all__ = ["METRICS", "PopulationResults", "measure_x", "run_population",
           "simulate_population", "summarize_replications", "value_lost",
           "without_wrong_orders"]
