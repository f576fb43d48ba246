"""Argument checks shared by the theory modules; one message shape for every ValueError.

Imports numpy only; nothing from the rest of queue_sim.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

TAIL_MASS = 1e-12
"""Probability mass that a truncated state space may leave out."""


def finite(name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite, else raise ValueError."""
    number = _real(name, value, "a finite number")
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number (got {value!r})")
    return number


def positive(name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite and > 0, else raise ValueError."""
    number = _real(name, value, "a positive finite number")
    if not (math.isfinite(number) and number > 0.0):
        raise ValueError(f"{name} must be a positive finite number (got {value!r})")
    return number


def nonnegative(name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite and >= 0, else raise ValueError."""
    number = _real(name, value, "a non-negative finite number")
    if not (math.isfinite(number) and number >= 0.0):
        raise ValueError(f"{name} must be a non-negative finite number (got {value!r})")
    return number


def probability(name: str, value: float, *, allow_zero: bool = True,
                allow_one: bool = True) -> float:
    """Return ``value`` as a float if it is a probability in the allowed range."""
    number = _real(name, value, "a probability")
    low_ok = number >= 0.0 if allow_zero else number > 0.0
    high_ok = number <= 1.0 if allow_one else number < 1.0
    if not (math.isfinite(number) and low_ok and high_ok):
        interval = ("[0" if allow_zero else "(0") + ", " + ("1]" if allow_one else "1)")
        raise ValueError(f"{name} must be a probability in {interval} (got {value!r})")
    return number


def integer(name: str, value: int, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``, else raise ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= {minimum} (got {value!r})")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= {minimum} (got {value!r})") from None
    if number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum} (got {value!r})")
    return number


def positive_vector(name: str, values: Sequence[float], *, allow_zero: bool = False,
                    length: int | None = None) -> np.ndarray:
    """Return a 1-D float array of finite positive (or non-negative) entries."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers (got {values!r})")
    if length is not None and array.size != length:
        raise ValueError(f"{name} must have {length} entries, one per class or station "
                         f"(got {array.size})")
    ok = np.isfinite(array) & ((array >= 0.0) if allow_zero else (array > 0.0))
    if not ok.all():
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must contain only {kind} finite numbers (got {values!r})")
    return array


def times(name: str, t: float | Sequence[float]) -> tuple[np.ndarray, bool]:
    """Return (1-D float array of times >= 0, whether the input was a scalar)."""
    array = np.asarray(t, dtype=float)
    if not (np.isfinite(array).all() and (array >= 0.0).all()):
        raise ValueError(f"{name} must be non-negative finite time(s) (got {t!r})")
    return array.reshape(-1), array.ndim == 0


def shaped(values: np.ndarray, is_scalar: bool) -> float | np.ndarray:
    """Return a float for scalar input, else the array."""
    return float(values[0]) if is_scalar else values


def require_stable(utilization: float, detail: str) -> None:
    """Raise ValueError naming the offending parameters unless ``utilization`` < 1."""
    if not utilization < 1.0:
        raise ValueError(f"queue is unstable: {detail} (utilization {utilization:.6g} "
                         "must be < 1)")


def _real(name: str, value: float, expectation: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be {expectation} (got {value!r})")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {expectation} (got {value!r})") from None
