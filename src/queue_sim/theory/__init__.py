"""Closed-form and exact-numerical queueing results that the simulator is validated against.

Owns the formulas of DOMAIN.md sections 2b, 3b, 4b, 5b and 7: Markovian queues (M/M/1,
Erlang B/C, M/M/c, M/M/c/K, M/M/inf, feedback, retrials), M/G/1 (P-K, M/D/1, vacations,
breakdowns, interruptions), priority queues, Erlang-A, Jackson networks, the failure-demand
network, truncated-CTMC oracles for server disruption, separate lines against one shared
line and the fluid fixed point of wait-dependent service, and customer-value formulas.

Imports only numpy, scipy and the standard library; nothing from the rest of queue_sim, so
plots and tests can use it without loading the engines.  Every function is pure, validates
its arguments (ValueError naming the parameter, also for unstable queues) and returns floats
or small frozen dataclasses.  Rates are per unit of time; times are in that same unit.
"""

from queue_sim.theory.ctmc import (
    InterruptionsResult,
    ServerRemovalResult,
    mmc_interruptions,
    server_removal_extra_queue_time,
    server_removal_fluid_extra_queue_time,
)
from queue_sim.theory.abandonment import (
    ErlangAResult,
    erlang_a,
    erlang_a_qed_wait_probability,
    erlang_a_wait_tail,
)
from queue_sim.theory.markovian import (
    FeedbackResult,
    InfiniteServerResult,
    MMcKResult,
    MMcResult,
    RetrialResult,
    erlang_b,
    erlang_c,
    halfin_whitt_wait_probability,
    mm1,
    mm1_feedback,
    mm1_mean_sojourn,
    mm1_retrial,
    mm1_sojourn_moment,
    mm1_sojourn_tail,
    mm1_wait_tail,
    mm_infinity,
    mmc,
    mmc_mean_wait,
    mmc_sojourn_tail,
    mmc_wait_moment,
    mmc_wait_probability,
    mmc_wait_tail,
    mmck,
    mmck_wait_tail,
)
from queue_sim.theory.general_service import (
    MG1Result,
    ServiceMoments,
    completion_time_moments,
    md1,
    md1_wait_cdf,
    mg1,
    mg1_breakdowns,
    mg1_multiple_vacations,
    mg1_single_vacation,
    service_moments,
)
from queue_sim.theory.networks import (
    FailureDemandResult,
    NetworkResult,
    TandemResult,
    failure_demand_network,
    jackson_network,
    jackson_tandem,
    jackson_tandem_sojourn_tail,
)
from queue_sim.theory.priority import (
    PriorityResult,
    mg1_interruptions,
    mg1_nonpreemptive_priority,
    mg1_preemptive_resume_priority,
    mmc_nonpreemptive_priority,
    mmc_preemptive_resume_priority,
)
from queue_sim.theory.structure import (
    separate_lines_jockeying,
    separate_lines_random_split,
    wait_dependent_fluid_wait,
)
from queue_sim.theory.value import clv, incident_value_lost

__all__ = [
    "ErlangAResult",
    "FailureDemandResult",
    "FeedbackResult",
    "InfiniteServerResult",
    "InterruptionsResult",
    "MG1Result",
    "MMcKResult",
    "MMcResult",
    "NetworkResult",
    "PriorityResult",
    "RetrialResult",
    "ServerRemovalResult",
    "ServiceMoments",
    "TandemResult",
    "clv",
    "completion_time_moments",
    "erlang_a",
    "erlang_a_qed_wait_probability",
    "erlang_a_wait_tail",
    "erlang_b",
    "erlang_c",
    "failure_demand_network",
    "halfin_whitt_wait_probability",
    "incident_value_lost",
    "jackson_network",
    "jackson_tandem",
    "jackson_tandem_sojourn_tail",
    "md1",
    "md1_wait_cdf",
    "mg1",
    "mg1_breakdowns",
    "mg1_interruptions",
    "mg1_multiple_vacations",
    "mg1_nonpreemptive_priority",
    "mg1_preemptive_resume_priority",
    "mg1_single_vacation",
    "mm1",
    "mm1_feedback",
    "mm1_mean_sojourn",
    "mm1_retrial",
    "mm1_sojourn_moment",
    "mm1_sojourn_tail",
    "mm1_wait_tail",
    "mm_infinity",
    "mmc",
    "mmc_interruptions",
    "mmc_mean_wait",
    "mmc_nonpreemptive_priority",
    "mmc_preemptive_resume_priority",
    "mmc_sojourn_tail",
    "mmc_wait_moment",
    "mmc_wait_probability",
    "mmc_wait_tail",
    "mmck",
    "mmck_wait_tail",
    "separate_lines_jockeying",
    "separate_lines_random_split",
    "server_removal_extra_queue_time",
    "server_removal_fluid_extra_queue_time",
    "service_moments",
    "wait_dependent_fluid_wait",
]
