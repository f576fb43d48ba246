"""Probability distributions a scenario can name, as validated frozen config objects.

Each distribution is sampled by inverse transform of a uniform (``quantile``), so one uniform per
customer gives the same customer the same rank whatever the distribution's parameters: common
random numbers across policies, engines and sweep points.  Imports nothing from simpy or numba.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from scipy import special


class Frozen(BaseModel):
    """Base for every config object: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Exponential(Frozen):
    """Exponential with the given mean."""

    kind: Literal["exponential"] = "exponential"
    mean: float = Field(gt=0, description="mean, in time_unit")

    def moments(self) -> tuple[float, float]:
        return self.mean, 2 * self.mean**2

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-u)


class Deterministic(Frozen):
    """Always the same value."""

    kind: Literal["deterministic"] = "deterministic"
    value: float = Field(ge=0, description="the constant, in time_unit")

    def moments(self) -> tuple[float, float]:
        return self.value, self.value**2

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value)


class Uniform(Frozen):
    """Uniform on [low, high]."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(ge=0, description="lower bound, in time_unit")
    high: float = Field(gt=0, description="upper bound, in time_unit")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError(f"high must be greater than low (got low={self.low}, high={self.high})")
        return self

    def moments(self) -> tuple[float, float]:
        a, b = self.low, self.high
        return (a + b) / 2, (a * a + a * b + b * b) / 3

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * u


class Triangular(Frozen):
    """Triangular on [low, high] with the given mode."""

    kind: Literal["triangular"] = "triangular"
    low: float = Field(ge=0, description="lower bound, in time_unit")
    mode: float = Field(ge=0, description="most likely value, in time_unit")
    high: float = Field(gt=0, description="upper bound, in time_unit")

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"needs low <= mode <= high and low < high (got {self.low}, {self.mode}, {self.high})")
        return self

    def moments(self) -> tuple[float, float]:
        a, c, b = self.low, self.mode, self.high
        mean = (a + b + c) / 3
        var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        return mean, var + mean**2

    def quantile(self, u: np.ndarray) -> np.ndarray:
        a, c, b = self.low, self.mode, self.high
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < split, left, right)


class Gamma(Frozen):
    """Gamma by mean and coefficient of variation (shape = 1/cv^2)."""

    kind: Literal["gamma"] = "gamma"
    mean: float = Field(gt=0, description="mean, in time_unit")
    cv: float = Field(gt=0, description="coefficient of variation (std / mean)")

    def moments(self) -> tuple[float, float]:
        return self.mean, self.mean**2 * (1 + self.cv**2)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        shape = 1 / self.cv**2
        return special.gammaincinv(shape, u) * self.mean / shape


class Lognormal(Frozen):
    """Lognormal by mean and coefficient of variation (cv = 0 is deterministic)."""

    kind: Literal["lognormal"] = "lognormal"
    mean: float = Field(gt=0, description="mean, in time_unit")
    cv: float = Field(ge=0, description="coefficient of variation (std / mean)")

    def moments(self) -> tuple[float, float]:
        return self.mean, self.mean**2 * (1 + self.cv**2)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean) - sigma2 / 2
        return np.exp(mu + math.sqrt(sigma2) * special.ndtri(u))


class Weibull(Frozen):
    """Weibull by shape and scale."""

    kind: Literal["weibull"] = "weibull"
    shape: float = Field(gt=0, description="shape parameter k")
    scale: float = Field(gt=0, description="scale parameter, in time_unit")

    def moments(self) -> tuple[float, float]:
        return (self.scale * math.gamma(1 + 1 / self.shape),
                self.scale**2 * math.gamma(1 + 2 / self.shape))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return self.scale * (-np.log1p(-u)) ** (1 / self.shape)


class Empirical(Frozen):
    """Resampling of a column of observed values in a CSV file (path relative to the config)."""

    kind: Literal["empirical"] = "empirical"
    file: Path = Field(description="CSV file of observed values, relative to the scenario file")
    column: str | None = Field(default=None, description="column to use; default: the first")
    _values: np.ndarray = PrivateAttr(default_factory=lambda: np.empty(0))

    def bind(self, values: np.ndarray) -> Empirical:
        self._values = np.sort(values)
        return self

    @property
    def values(self) -> np.ndarray:
        return self._values

    def moments(self) -> tuple[float, float]:
        return float(self._values.mean()), float((self._values**2).mean())

    def quantile(self, u: np.ndarray) -> np.ndarray:
        n = len(self._values)
        return self._values[np.minimum((u * n).astype(np.int64), n - 1)]


Distribution = Annotated[
    Union[Exponential, Deterministic, Uniform, Triangular, Gamma, Lognormal, Weibull, Empirical],
    Field(discriminator="kind"),
]
DISTRIBUTION_KINDS = ("exponential", "deterministic", "uniform", "triangular", "gamma",
                      "lognormal", "weibull", "empirical")
