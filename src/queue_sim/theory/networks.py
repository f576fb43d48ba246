"""Open Jackson networks: M/M/1 tandems, general product-form networks, the failure-demand network.

DOMAIN.md 7.13 and 4b.1.  Imports numpy/scipy and sibling theory modules only; nothing from
the rest of queue_sim.  Rates are per unit of time; times are in the same unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from queue_sim.theory import _validation as check
from queue_sim.theory.markovian import mmc


@dataclass(frozen=True)
class TandemResult:
    """M/M/1 FCFS tandem: per-station means and the end-to-end sojourn.

    Attributes
    ----------
    wait_probabilities : tuple of float
        P(wait at station i) = lambda / mu_i.
    mean_waits : tuple of float
        E[Wq_i] = lambda / (mu_i (mu_i - lambda)).
    mean_sojourns : tuple of float
        E[T_i] = 1 / (mu_i - lambda).
    mean_sojourn : float
        E[T] = sum of E[T_i].
    """

    wait_probabilities: tuple[float, ...]
    mean_waits: tuple[float, ...]
    mean_sojourns: tuple[float, ...]
    mean_sojourn: float


def jackson_tandem(arrival_rate: float, service_rates: Sequence[float]) -> TandemResult:
    """Tandem of M/M/1 FCFS stations fed by Poisson(lambda) (DOMAIN.md 7.13).

    Parameters
    ----------
    arrival_rate : float
        Poisson arrival rate lambda, per unit time.
    service_rates : sequence of float
        mu_i of each station, per unit time; each must exceed lambda.

    Returns
    -------
    TandemResult
    """
    arrival_rate = check.positive("arrival_rate", arrival_rate)
    rates = _tandem_rates(arrival_rate, service_rates)
    sojourns = 1.0 / (rates - arrival_rate)
    waits = arrival_rate / (rates * (rates - arrival_rate))
    return TandemResult(
        wait_probabilities=tuple(float(v) for v in arrival_rate / rates),
        mean_waits=tuple(float(v) for v in waits),
        mean_sojourns=tuple(float(v) for v in sojourns),
        mean_sojourn=float(sojourns.sum()))


def jackson_tandem_sojourn_tail(t: float | Sequence[float], arrival_rate: float,
                                service_rates: Sequence[float]) -> float | np.ndarray:
    """P(T > t) for an M/M/1 tandem: T is hypoexponential with rates mu_i - lambda (7.13).

    Computed as the survival of a pure-death phase chain via a matrix exponential, so equal
    rates need no special case.  ``t`` is in time units (scalar or array).
    """
    times, is_scalar = check.times("t", t)
    arrival_rate = check.positive("arrival_rate", arrival_rate)
    rates = _tandem_rates(arrival_rate, service_rates) - arrival_rate
    generator = np.diag(-rates) + np.diag(rates[:-1], k=1)
    tail = np.array([linalg.expm(generator * time)[0].sum() for time in times])
    return check.shaped(np.clip(tail, 0.0, 1.0), is_scalar)


def _tandem_rates(arrival_rate: float, service_rates: Sequence[float]) -> np.ndarray:
    rates = check.positive_vector("service_rates", service_rates)
    worst = int(np.argmin(rates))
    check.require_stable(arrival_rate / rates[worst],
                         f"arrival_rate must be < service_rates[{worst}] (got arrival_rate="
                         f"{arrival_rate!r}, service_rates[{worst}]={rates[worst]!r})")
    return rates


@dataclass(frozen=True)
class NetworkResult:
    """Open Jackson network: traffic-equation rates and per-node M/M/c (or M/M/inf) means.

    Per-node times are per visit.  ``mean_sojourn`` is the network-wide mean time from
    external arrival to final departure, sum(L_j) / sum(external rates) by Little's law.

    Attributes
    ----------
    throughputs : tuple of float
        Lambda_j solving Lambda = lambda_0 + Lambda P.
    utilizations : tuple of float
        Lambda_j / (c_j mu_j); 0 for infinite-server nodes.
    wait_probabilities : tuple of float
        P(wait) at each node.
    mean_waits : tuple of float
        E[Wq] per visit at each node.
    mean_sojourns : tuple of float
        E[T] per visit at each node.
    mean_numbers_in_system : tuple of float
        E[L_j].
    visit_ratios : tuple of float
        Lambda_j / sum(external rates), mean visits per customer.
    mean_sojourn : float
        Mean total time in the network per customer.
    """

    throughputs: tuple[float, ...]
    utilizations: tuple[float, ...]
    wait_probabilities: tuple[float, ...]
    mean_waits: tuple[float, ...]
    mean_sojourns: tuple[float, ...]
    mean_numbers_in_system: tuple[float, ...]
    visit_ratios: tuple[float, ...]
    mean_sojourn: float


def jackson_network(external_rates: Sequence[float], routing_matrix: Sequence[Sequence[float]],
                    service_rates: Sequence[float],
                    servers: int | float | Sequence[int | float] = 1) -> NetworkResult:
    """Open Jackson network: solve the traffic equations, then M/M/c per node (DOMAIN.md 7.13).

    Parameters
    ----------
    external_rates : sequence of float
        lambda_0j >= 0, Poisson arrivals from outside to node j, per unit time.
    routing_matrix : 2-D array_like
        P[i][j] = probability of moving from node i to node j after service; row sums <= 1
        (the rest leaves), and every customer must eventually leave.
    service_rates : sequence of float
        mu_j per server, per unit time.
    servers : int, math.inf, or sequence of those
        c_j per node (math.inf for an M/M/inf delay node).  A scalar applies to every node.

    Returns
    -------
    NetworkResult

    Raises
    ------
    ValueError
        If shapes or values are invalid, customers can never leave, or a node is unstable.
    """
    external = check.positive_vector("external_rates", external_rates, allow_zero=True)
    size = external.size
    if external.sum() <= 0.0:
        raise ValueError(f"external_rates must have a positive entry (got {external_rates!r})")
    routing = np.asarray(routing_matrix, dtype=float)
    if routing.shape != (size, size):
        raise ValueError(f"routing_matrix must be {size} x {size} (got shape {routing.shape})")
    if not (np.isfinite(routing).all() and (routing >= 0).all()
            and (routing.sum(axis=1) <= 1.0 + 1e-12).all()):
        raise ValueError("routing_matrix must have non-negative entries and row sums <= 1 "
                         f"(got {routing_matrix!r})")
    if max(abs(np.linalg.eigvals(routing))) >= 1.0 - 1e-12:
        raise ValueError("routing_matrix must let every customer leave eventually "
                         "(spectral radius must be < 1)")
    rates = check.positive_vector("service_rates", service_rates, length=size)
    counts = _server_counts(servers, size)
    throughputs = np.linalg.solve(np.eye(size) - routing.T, external)
    throughputs = np.maximum(throughputs, 0.0)
    columns: dict[str, list[float]] = {k: [] for k in ("rho", "pw", "wq", "t", "l")}
    for j in range(size):
        load = throughputs[j] / rates[j]
        if throughputs[j] == 0.0:
            values = (0.0, 0.0, 0.0, 1.0 / rates[j], 0.0)
        elif math.isinf(counts[j]):
            values = (0.0, 0.0, 0.0, 1.0 / rates[j], load)
        else:
            try:
                node = mmc(throughputs[j], rates[j], int(counts[j]))
            except ValueError as error:
                raise ValueError(f"node {j} of the network: {error}") from None
            values = (node.utilization, node.wait_probability, node.mean_wait,
                      node.mean_sojourn, node.mean_number_in_system)
        for key, value in zip(columns, values, strict=True):
            columns[key].append(float(value))
    total_external = float(external.sum())
    return NetworkResult(
        throughputs=tuple(float(v) for v in throughputs),
        utilizations=tuple(columns["rho"]), wait_probabilities=tuple(columns["pw"]),
        mean_waits=tuple(columns["wq"]), mean_sojourns=tuple(columns["t"]),
        mean_numbers_in_system=tuple(columns["l"]),
        visit_ratios=tuple(float(v) for v in throughputs / total_external),
        mean_sojourn=sum(columns["l"]) / total_external)


def _server_counts(servers: int | float | Sequence[int | float], size: int) -> list[float]:
    values = list(servers) if np.ndim(servers) else [servers] * size   # type: ignore[arg-type]
    if len(values) != size:
        raise ValueError(f"servers must have {size} entries (got {len(values)})")
    counts: list[float] = []
    for j, value in enumerate(values):
        if isinstance(value, float) and value == math.inf:
            counts.append(math.inf)
        elif isinstance(value, float) and value.is_integer() and value >= 1:
            counts.append(value)
        else:
            counts.append(float(check.integer(f"servers[{j}]", value)))
    return counts


@dataclass(frozen=True)
class FailureDemandResult:
    """Failure-demand network (Erlang-R structure) of DOMAIN.md 4b.1.

    Attributes
    ----------
    contact_rate : float
        Lambda = lambda / q, contacts per unit time at the agent node.
    contacts_per_case : float
        1 / q.
    failure_share : float
        f = 1 - q, re-contacts / all contacts.
    utilization : float
        lambda s / (q c).
    wait_probability : float
        P(wait) per contact (Erlang C at rate Lambda).
    mean_wait_per_contact : float
        E[Wq] per contact.
    mean_time_to_resolution : float
        E[T_resolution] = (1/q)(Wq + s) + ((1 - q)/q) d.
    work_per_case : float
        Agent time per resolved case, s / q.
    """

    contact_rate: float
    contacts_per_case: float
    failure_share: float
    utilization: float
    wait_probability: float
    mean_wait_per_contact: float
    mean_time_to_resolution: float
    work_per_case: float


def failure_demand_network(arrival_rate: float, service_time: float,
                           resolution_probability: float, servers: int,
                           recontact_delay: float) -> FailureDemandResult:
    """Agents (M/M/c) plus an infinite-server re-contact delay, unresolved contacts loop back.

    Parameters
    ----------
    arrival_rate : float
        lambda, new cases per unit time.
    service_time : float
        Mean handle time s per contact (exponential), in time units.
    resolution_probability : float
        q in (0, 1], probability a contact resolves the case.
    servers : int
        Number of agents c.
    recontact_delay : float
        Mean delay d before an unresolved customer contacts again, in time units (>= 0).

    Returns
    -------
    FailureDemandResult
    """
    arrival_rate = check.positive("arrival_rate", arrival_rate)
    service_time = check.positive("service_time", service_time)
    q = check.probability("resolution_probability", resolution_probability, allow_zero=False)
    servers = check.integer("servers", servers)
    delay = check.nonnegative("recontact_delay", recontact_delay)
    contact_rate = arrival_rate / q
    try:
        node = mmc(contact_rate, 1.0 / service_time, servers)
    except ValueError as error:
        raise ValueError(f"{error}; the contact rate is arrival_rate / resolution_probability"
                         ) from None
    contacts = 1.0 / q
    return FailureDemandResult(
        contact_rate=contact_rate, contacts_per_case=contacts, failure_share=1.0 - q,
        utilization=node.utilization, wait_probability=node.wait_probability,
        mean_wait_per_contact=node.mean_wait,
        mean_time_to_resolution=contacts * node.mean_sojourn + (1.0 - q) / q * delay,
        work_per_case=service_time / q)
