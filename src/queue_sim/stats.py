"""Reducing traces to numbers: per-replication metrics, then means and t-intervals over replications.

Imports ``trace`` only; never the engines, the runner or the results folder.

Metric keys are ``(scope, name, metric)`` with ``scope`` one of ``system`` (name ``all``),
``class`` (a class name), ``station`` (a station name) or ``staff`` (a staff member's name).
In tables a key is written ``scope:name:metric`` (``METRIC_SEP``).

Customer metrics (scopes ``system`` and ``class``) use the customers who arrived in the
statistics window ``[warmup, horizon)``; time averages divide the trace's integrals, which
already cover the window, by its length ``horizon - warmup``.

==========================  ===============================================================
metric                      meaning
==========================  ===============================================================
n_customers                 arrivals in the window
mean_wait                   mean total wait in queue, all customers (an abandoning
                            customer's wait ends when it leaves; balked and lost wait 0)
wait_p50 .. wait_p99        percentiles of that wait (linear interpolation)
mean_wait_served            mean wait of customers who were served
mean_sojourn                mean arrival-to-departure time of served customers
wait_probability            fraction with total wait > 0
abandonment_rate            fraction abandoned (likewise balking_rate, loss_rate,
                            unfinished_rate)
throughput                  customers served with ``left_at`` in the window, per time unit
n_complaints                complained visits of these customers
complaint_rate              complained visits per customer
n_bystanders                customers with a wait overlapping another customer's complaint
                            handling at the same station
bystander_mean_wait         mean wait of bystanders (other_mean_wait: of everyone else)
bystander_wait_difference   bystander_mean_wait - other_mean_wait
mean_queue_length           time-average number waiting (station; system: sum)
mean_in_system              time-average number present (station; system: sum)
utilization                 busy time / on-duty time of the staff who serve (station,
                            system) or of one member (staff)
n_visits, mean_wait         (station) visits reached by window customers and their mean wait
complaint_time              (system, staff managers) manager time spent handling complaints
handling_share              (staff managers, system) complaint_time / window length
defection_rate              fraction whose last contact left the case unresolved (no re-contact)
resolution_rate             fraction resolved: served, neither defected nor lost on the way
contacts_per_case           handled contacts (visits served to the end) per customer
contacts_per_resolved_case  handled contacts of these customers / customers resolved
failure_demand_share        handled contacts that are repeats (a re-contact, an escalated
                            contact, or a visit reached only after a failed attempt) / handled
                            contacts (station: at that station)
mean_time_to_resolution     first contact to the resolving departure, resolved customers (the
                            same as mean_sojourn: served customers are the resolved ones)
work_per_resolved_case      planned service time of the handled contacts / customers resolved,
                            in time_unit of staff time
escalations_per_1000        escalated contacts reached per 1,000 customers (station: into it)
retrials_per_customer       attempts after the first, summed over visits, per customer
retried_share               fraction with at least one retry
mean_retry_time             mean time from a visit's first attempt to its last, summed over the
                            customer's visits (the time in orbit of a retrial queue)
==========================  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from queue_sim.trace import Outcome, Trace

METRIC_SEP = ":"
# the scopes of metric columns; ``counterfactual`` (name ``all``) holds the attribution metrics
# of ``queue_sim.counterfactual`` when a run or sweep asks for them
SCOPES = ("system", "class", "station", "staff", "counterfactual")
PERCENTILES = (50, 90, 95, 99)
SUMMARY_COLUMNS = ["scope", "name", "metric", "mean", "ci_low", "ci_high", "std", "reps"]

Key = tuple[str, str, str]


def summarize(trace: Trace) -> dict[Key, float]:
    """Per-replication metrics of one trace (see the module docstring for the list).

    Parameters
    ----------
    trace
        The record of one replication from either engine.

    Returns
    -------
    dict
        ``{(scope, name, metric): value}``; NaN where a metric has no data (no served
        customer, no staff on duty ...).  Insertion order is stable, so tables built from it
        have the same columns every time.
    """
    columns = customer_columns(trace)
    return reduce_columns(lambda k: exact_scope_stats(columns, k),
                          station_visit_sums(columns, len(trace.queue_area)), trace)


def customer_columns(trace: Trace, complaints: tuple[np.ndarray, ...] | None = None
                     ) -> CustomerColumns:
    """The per-customer and per-visit quantities every customer metric is a sum of.

    ``complaints`` (station, start, end) are the handling intervals a visit may stand by;
    default the trace's own (see ``bystanders``).  Computing the columns chunk by chunk and
    concatenating them gives the columns of the whole trace (``queue_sim.streaming``).
    """
    visit_customer = trace.visit_customer
    n = trace.n_customers
    visit_wait = trace.visit_wait
    # same as trace.wait_time, but safe for customers without visits and reusing visit_wait
    wait = np.bincount(visit_customer, weights=np.nan_to_num(visit_wait, nan=0.0),
                       minlength=n) if n else np.zeros(0)
    in_window = (trace.arrived_at >= trace.warmup) & (trace.arrived_at < trace.horizon)
    served = trace.outcome == Outcome.SERVED
    served_in_window = served & (trace.left_at >= trace.warmup) & (trace.left_at < trace.horizon)
    complaints_per_customer = np.bincount(visit_customer,
                                          weights=trace.complained.astype(float),
                                          minlength=n) if n else np.zeros(0)
    bystander = bystanders(trace, visit_wait=visit_wait, visit_customer=visit_customer,
                           complaints=complaints)
    handled = ~np.isnan(trace.service_ended_at)
    repeat = handled & (trace.is_recontact | (trace.n_attempts > 1))
    escalated = ~np.isnan(trace.first_queued_at) & trace.is_escalation
    contacts = _contact_columns(trace, visit_customer, n, handled, repeat, escalated)
    return CustomerColumns(trace.class_idx, wait, trace.sojourn_time, trace.outcome, served,
                           served_in_window, complaints_per_customer, bystander, in_window,
                           *contacts, trace.station, visit_wait,
                           in_window[visit_customer] & ~np.isnan(visit_wait),
                           in_window[visit_customer], handled, repeat, escalated)


def _per_customer(visit_customer: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return (np.bincount(visit_customer, weights=values.astype(float), minlength=n) if n
            else np.zeros(0))


def _contact_columns(trace: Trace, visit_customer: np.ndarray, n: int, handled: np.ndarray,
                     repeat: np.ndarray, escalated: np.ndarray) -> tuple:
    """Per customer: handled contacts, repeat ones, their work, escalations reached, retries
    and time between first and last attempts."""
    reached = ~np.isnan(trace.first_queued_at)
    retry_time = np.where(reached, trace.queued_at - trace.first_queued_at, 0.0)
    return tuple(_per_customer(visit_customer, x, n) for x in (
        handled, repeat, np.where(handled, trace.service_time, 0.0),
        escalated, np.maximum(trace.n_attempts - 1, 0), retry_time))


def reduce_columns(scope_stats, station_sums: tuple[np.ndarray, np.ndarray],
                   trace: Trace) -> dict[Key, float]:
    """The metrics dict from additive per-scope statistics.

    ``scope_stats(k)`` gives ``(scope_sums, wait percentiles)`` of the system (``k`` None)
    or of class ``k``; ``station_sums`` is ``station_visit_sums``; the time integrals, the
    window and the names come from ``trace`` (for a streamed run: its last window, whose
    integrals cover the whole run).
    """
    window = float(trace.horizon - trace.warmup)
    out: dict[Key, float] = {}
    names = trace.class_names or [str(k) for k in range(int(trace.class_idx.max(initial=-1)) + 1)]
    system = None
    for k, scope in [(None, ("system", "all"))] + [(k, ("class", c)) for k, c in enumerate(names)]:
        # one class is the whole system: the same customers, so the same sums
        sums, quantiles = system if len(names) == 1 and k == 0 else scope_stats(k)
        system = system or (sums, quantiles)
        _customer_metrics(out, scope, sums, quantiles, window)
        if k is None:
            _system_time_metrics(out, trace, window)
    _station_metrics(out, trace, window, *station_sums)
    _staff_metrics(out, trace, window)
    return out


def exact_scope_stats(columns: CustomerColumns, k: int | None
                      ) -> tuple[dict[str, float], list[float]]:
    """Sums and exact wait percentiles of the system (``k`` None) or of class ``k``."""
    members = None if k is None else columns.class_idx == k
    mask = columns.in_window if members is None else columns.in_window & members
    return scope_sums(columns, mask, members), exact_percentiles(_pick(columns.wait, mask))


# ---------------------------------------------------------------------------------------------
# Customer metrics


@dataclass(frozen=True, slots=True)
class CustomerColumns:
    """Per-customer (then per-visit) arrays computed once and reused for every scope."""

    class_idx: np.ndarray
    wait: np.ndarray
    sojourn: np.ndarray
    outcome: np.ndarray
    served: np.ndarray
    served_in_window: np.ndarray
    complaints: np.ndarray
    bystander: np.ndarray
    in_window: np.ndarray
    contacts: np.ndarray        # handled contacts (visits served to the end)
    repeat_contacts: np.ndarray
    work: np.ndarray
    escalations: np.ndarray
    retries: np.ndarray
    retry_time: np.ndarray
    visit_station: np.ndarray
    visit_wait: np.ndarray
    visit_reached: np.ndarray   # visit of a window customer that was reached
    visit_in_window: np.ndarray  # visit of a window customer
    visit_handled: np.ndarray
    visit_repeat: np.ndarray
    visit_escalated: np.ndarray

    CUSTOMER_FIELDS = ("class_idx", "wait", "sojourn", "outcome", "served", "served_in_window",
                       "complaints", "bystander", "in_window", "contacts", "repeat_contacts",
                       "work", "escalations", "retries", "retry_time")
    VISIT_FIELDS = ("visit_station", "visit_wait", "visit_reached", "visit_in_window",
                    "visit_handled", "visit_repeat", "visit_escalated")


OUTCOME_RATES = (("abandonment_rate", Outcome.ABANDONED), ("balking_rate", Outcome.BALKED),
                 ("loss_rate", Outcome.LOST), ("unfinished_rate", Outcome.UNFINISHED),
                 ("defection_rate", Outcome.DEFECTED))


def _pick(values: np.ndarray, mask: np.ndarray, everyone: bool | None = None) -> np.ndarray:
    """``values[mask]``, or ``values`` itself when the mask keeps everything (same elements,
    same order, so the same sums)."""
    if everyone is None:
        everyone = bool(mask.all())
    return values if everyone else values[mask]


def scope_sums(c: CustomerColumns, mask: np.ndarray, members: np.ndarray | None
               ) -> dict[str, float]:
    """Every sum and count the customer metrics of one scope need (additive over customers):
    ``mask`` picks the scope's window customers, ``members`` the whole scope whatever the
    arrival time (throughput counts departures in the window; None: every customer)."""
    everyone = bool(mask.all())
    wait = _pick(c.wait, mask, everyone)
    outcome = _pick(c.outcome, mask, everyone)
    served = _pick(c.served, mask, everyone)
    is_bystander = _pick(c.bystander, mask, everyone)
    n_bystanders = int(np.count_nonzero(is_bystander))
    in_throughput = c.served_in_window if members is None else c.served_in_window & members
    sums = {"n": int(np.count_nonzero(mask)), "wait": wait.sum(),
            "n_served": int(np.count_nonzero(served)), "wait_served": wait[served].sum(),
            "sojourn_served": _pick(c.sojourn, mask, everyone)[served].sum(),
            "n_waited": int(np.count_nonzero(wait > 0)),
            "n_throughput": int(np.count_nonzero(in_throughput)),
            "complaints": _pick(c.complaints, mask, everyone).sum(),
            "n_bystanders": n_bystanders,
            "wait_bystanders": wait[is_bystander].sum() if n_bystanders else 0.0,
            "wait_others": (wait if not n_bystanders else wait[~is_bystander]).sum()}
    retries = _pick(c.retries, mask, everyone)
    for name in ("contacts", "repeat_contacts", "work", "escalations", "retry_time"):
        sums[name] = _pick(getattr(c, name), mask, everyone).sum()
    sums["retries"] = retries.sum()
    sums["n_retried"] = int(np.count_nonzero(retries > 0))
    for name, code in OUTCOME_RATES:
        sums[name] = int(np.count_nonzero(outcome == code))
    return sums


def station_visit_sums(c: CustomerColumns, n_stations: int) -> tuple[np.ndarray, ...]:
    """Per station: visits reached by window customers, the sum of their waits, their handled
    contacts, the repeat ones among those and escalated contacts reached; last, the number of
    window customers (additive over chunks)."""
    reached = c.visit_reached

    def count(at: np.ndarray) -> np.ndarray:
        return np.bincount(c.visit_station[at], minlength=n_stations)

    window_visits = c.visit_in_window
    return (count(reached),
            np.bincount(c.visit_station[reached], weights=c.visit_wait[reached],
                        minlength=n_stations),
            count(window_visits & c.visit_handled), count(window_visits & c.visit_repeat),
            count(window_visits & c.visit_escalated),
            np.array([np.count_nonzero(c.in_window)], np.int64))


def exact_percentiles(wait: np.ndarray) -> list[float]:
    """``PERCENTILES`` of the waits (linear interpolation), NaN without customers."""
    return list(np.percentile(wait, PERCENTILES)) if len(wait) else [np.nan] * len(PERCENTILES)


def _customer_metrics(out: dict[Key, float], scope: tuple[str, str], sums: dict[str, float],
                      quantiles: list[float], window: float) -> None:
    """Customer metrics of one scope from its sums (``scope_sums``) and wait percentiles."""
    n = sums["n"]

    def put(metric: str, value: float) -> None:
        out[(*scope, metric)] = float(value)

    def mean(total: float, count: int) -> float:
        return total / count if count else np.nan

    put("n_customers", n)
    put("mean_wait", mean(sums["wait"], n))
    for p, q in zip(PERCENTILES, quantiles):
        put(f"wait_p{p}", q)
    put("mean_wait_served", mean(sums["wait_served"], sums["n_served"]))
    put("mean_sojourn", mean(sums["sojourn_served"], sums["n_served"]))
    put("wait_probability", mean(sums["n_waited"], n))
    for name, _ in OUTCOME_RATES:
        put(name, mean(sums[name], n))
    put("throughput", _ratio(sums["n_throughput"], window))
    put("n_complaints", sums["complaints"])
    put("complaint_rate", mean(sums["complaints"], n))
    by_wait = mean(sums["wait_bystanders"], sums["n_bystanders"])
    other_wait = mean(sums["wait_others"], n - sums["n_bystanders"])
    put("n_bystanders", sums["n_bystanders"])
    put("bystander_mean_wait", by_wait)
    put("other_mean_wait", other_wait)
    put("bystander_wait_difference", by_wait - other_wait)
    n_resolved = sums["n_served"]
    contacts = sums["contacts"]
    put("resolution_rate", mean(n_resolved, n))
    put("contacts_per_case", contacts / n if n else np.nan)
    put("contacts_per_resolved_case", _ratio(contacts, n_resolved))
    put("failure_demand_share", _ratio(sums["repeat_contacts"], contacts))
    put("mean_time_to_resolution", mean(sums["sojourn_served"], n_resolved))
    put("work_per_resolved_case", _ratio(sums["work"], n_resolved))
    put("escalations_per_1000", 1000 * sums["escalations"] / n if n else np.nan)
    put("retrials_per_customer", mean(sums["retries"], n))
    put("retried_share", mean(sums["n_retried"], n))
    put("mean_retry_time", mean(sums["retry_time"], n))


def bystanders(trace: Trace, *, visit_wait: np.ndarray | None = None,
               visit_customer: np.ndarray | None = None,
               complaints: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """Which customers waited while a complaint of *another* customer was handled at the station.

    A visit's waiting interval is ``[queued_at, service start or leaving)``; a complaint's
    handling interval is ``[handling_started_at, handling_ended_at)``.  Half-open intervals
    overlap when each starts before the other ends, so zero waits never count.  Per station,
    the number of handling intervals overlapping ``[a, b)`` is ``#(start < b) - #(end <= a)``,
    two ``searchsorted`` calls on sorted starts and ends (O((n + m) log m), no pairwise loop);
    overlaps with the customer's own complaints are then subtracted.

    ``complaints`` = (station, start, end) arrays of handling intervals replaces the trace's
    own as the intervals counted (a chunk of a streamed run passes every interval that can
    still overlap it); the customer's own complaints are always the trace's.

    Returns
    -------
    numpy.ndarray
        bool per customer.
    """
    n = trace.n_customers
    if visit_customer is None:
        visit_customer = trace.visit_customer
    if visit_wait is None:
        visit_wait = trace.visit_wait
    a = trace.queued_at
    b = a + visit_wait
    hs, he = trace.handling_started_at, trace.handling_ended_at
    is_complaint = complaint_intervals(trace)
    waited = ~np.isnan(a) & ~np.isnan(b) & (b > a)
    if complaints is None:
        complaints = (trace.station[is_complaint], hs[is_complaint], he[is_complaint])
    c_station, c_start, c_end = complaints
    if not len(c_station) or not waited.any():
        return np.zeros(n, dtype=bool)
    overlaps = np.zeros(len(a), dtype=np.int64)
    for s in np.unique(c_station):
        comp = c_station == s
        starts, ends = np.sort(c_start[comp]), np.sort(c_end[comp])
        rows = np.flatnonzero(waited & (trace.station == s))
        overlaps[rows] = (np.searchsorted(starts, b[rows], side="left")
                          - np.searchsorted(ends, a[rows], side="right"))
    # a customer does not stand by its own complaint (e.g. its remake waiting during handling)
    comp_rows = np.flatnonzero(is_complaint)
    if not len(comp_rows):
        return np.bincount(visit_customer, weights=overlaps > 0, minlength=n) > 0
    owner = visit_customer[comp_rows]
    first, last = trace.visit_ptr[owner], trace.visit_ptr[owner + 1]
    for k in range(int((last - first).max())):
        row = first + k
        ok = row < last
        row, j = row[ok], comp_rows[ok]
        hit = (waited[row] & (trace.station[row] == trace.station[j])
               & (a[row] < he[j]) & (hs[j] < b[row]))
        np.subtract.at(overlaps, row[hit], 1)
    is_bystander_visit = overlaps > 0
    return np.bincount(visit_customer, weights=is_bystander_visit, minlength=n) > 0


# ---------------------------------------------------------------------------------------------
# Time-average, station and staff metrics


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else np.nan


def _system_time_metrics(out: dict[Key, float], trace: Trace, window: float) -> None:
    out[("system", "all", "mean_queue_length")] = _ratio(trace.queue_area.sum(), window)
    out[("system", "all", "mean_in_system")] = _ratio(trace.system_area.sum(), window)
    roster = trace.staff
    if roster is None:
        return
    serves = roster.serves
    out[("system", "all", "utilization")] = _ratio(trace.busy_time[serves].sum(),
                                                   trace.on_duty_time[serves].sum())
    complaint_time = float(trace.handling_time[roster.is_manager].sum())
    out[("system", "all", "complaint_time")] = complaint_time
    out[("system", "all", "handling_share")] = _ratio(complaint_time, window)


def complaint_intervals(trace: Trace) -> np.ndarray:
    """Which visits are complaints with a handling interval of positive length (bool)."""
    hs, he = trace.handling_started_at, trace.handling_ended_at
    return trace.complained & ~np.isnan(hs) & ~np.isnan(he) & (he > hs)


def _station_metrics(out: dict[Key, float], trace: Trace, window: float,
                     n_visits: np.ndarray, wait_sum: np.ndarray, n_handled: np.ndarray,
                     n_repeat: np.ndarray, n_escalated: np.ndarray,
                     n_customers: np.ndarray) -> None:
    names = trace.station_names or [str(s) for s in range(len(trace.queue_area))]
    roster = trace.staff
    for s, sname in enumerate(names):
        key = ("station", sname)
        if roster is not None:
            at = roster.serves & (roster.station == s)
            out[(*key, "utilization")] = _ratio(trace.busy_time[at].sum(),
                                                trace.on_duty_time[at].sum())
        out[(*key, "mean_queue_length")] = _ratio(trace.queue_area[s], window)
        out[(*key, "mean_in_system")] = _ratio(trace.system_area[s], window)
        out[(*key, "n_visits")] = float(n_visits[s])
        out[(*key, "mean_wait")] = _ratio(wait_sum[s], n_visits[s])
        out[(*key, "failure_demand_share")] = _ratio(n_repeat[s], n_handled[s])
        out[(*key, "escalations_per_1000")] = _ratio(1000.0 * n_escalated[s],
                                                     int(n_customers[0]))


def _staff_metrics(out: dict[Key, float], trace: Trace, window: float) -> None:
    roster = trace.staff
    if roster is None:
        return
    for g, name in enumerate(roster.names):
        key = ("staff", name)
        out[(*key, "utilization")] = _ratio(trace.busy_time[g], trace.on_duty_time[g])
        if roster.is_manager[g]:
            out[(*key, "complaint_time")] = float(trace.handling_time[g])
            out[(*key, "handling_share")] = _ratio(trace.handling_time[g], window)


# ---------------------------------------------------------------------------------------------
# Across replications


def metric_column(key: Key) -> str:
    """Table column name of a metric key: ``scope:name:metric``."""
    return METRIC_SEP.join(key)


def read_tidy_csv(path) -> pd.DataFrame:
    """A tidy table written by queue_sim (``summary.csv``, ``differences.csv``), with names and
    point ids kept as text (ids are hex digits: '0123..' or '12e45..' must not become numbers)."""
    return pd.read_csv(path, keep_default_na=False, na_values=["", "NaN", "nan"],
                       dtype={"scope": str, "name": str, "metric": str, "point_id": str,
                              "baseline_point_id": str})


def parse_metric_column(column: str) -> Key | None:
    """Inverse of ``metric_column``; None for other columns (``replication``, factors ...).

    Station and class names may contain the separator, so scope and metric are split off the
    ends.
    """
    if not isinstance(column, str) or column.count(METRIC_SEP) < 2:
        return None
    scope, rest = column.split(METRIC_SEP, 1)
    name, metric = rest.rsplit(METRIC_SEP, 1)
    if scope not in SCOPES:
        return None
    return scope, name, metric


def to_long(rep_frame: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Wide replication table -> long rows ``(*by, replication, scope, name, metric, value)``."""
    if {"scope", "name", "metric", "value"} <= set(rep_frame.columns):
        return rep_frame
    keys = {c: parse_metric_column(c) for c in rep_frame.columns}
    metric_cols = [c for c, k in keys.items() if k is not None]
    ids = [c for c in rep_frame.columns if keys[c] is None]
    long = rep_frame.melt(id_vars=ids, value_vars=metric_cols, var_name="column",
                          value_name="value")
    parts = pd.DataFrame([keys[c] for c in metric_cols], columns=["scope", "name", "metric"],
                         index=metric_cols)
    long = long.join(parts, on="column").drop(columns="column")
    return long[[*ids, "scope", "name", "metric", "value"]]


def across_replications(rep_frame: pd.DataFrame, *, by: list[str] | None = None,
                        confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval of every metric over replications.

    Parameters
    ----------
    rep_frame
        One row per replication with ``scope:name:metric`` columns (``Results.replications``),
        or a long frame with ``scope, name, metric, value`` columns.  Other columns are ignored
        unless named in ``by``.
    by
        Columns to group by as well (a sweep's point id or factors); they lead the output.
    confidence
        Two-sided level of the interval (default 95%).

    Returns
    -------
    pandas.DataFrame
        ``[*by], scope, name, metric, mean, ci_low, ci_high, std, reps``.  NaN values are
        dropped per metric and ``reps`` counts what is left; the interval is
        ``mean +- t(1 - alpha/2, reps - 1) std / sqrt(reps)`` with the sample std (NaN when
        reps < 2).
    """
    by = list(by or [])
    long = to_long(rep_frame)
    keys = [*by, "scope", "name", "metric"]
    if long.empty:
        return pd.DataFrame(columns=[*by, *SUMMARY_COLUMNS])
    values = pd.to_numeric(long["value"], errors="coerce").astype(float)
    grouped = values.groupby([long[k] for k in keys], sort=False, dropna=False)
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    table.columns = [*keys, "mean", "std", "reps"]
    reps = table["reps"].to_numpy()
    mean, std = table["mean"].to_numpy(float), table["std"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(reps >= 2, sps.t.ppf(0.5 + confidence / 2, np.maximum(reps - 1, 1)),
                     np.nan)
        half = t * std / np.sqrt(reps)
    table["ci_low"] = mean - half
    table["ci_high"] = mean + half
    table["reps"] = table["reps"].astype(int)
    return table[[*by, *SUMMARY_COLUMNS]]
