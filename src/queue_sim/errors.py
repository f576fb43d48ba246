"""Exception types of queue_sim, each carrying structured fields for the CLI and tests.

Imports nothing from the rest of queue_sim.
"""

from __future__ import annotations


class QueueSimError(Exception):
    """Base class of every error queue_sim raises on purpose."""


class ConfigError(QueueSimError):
    """A scenario, sweep or data file is invalid; raised before anything runs.

    ``problems`` holds one ``Problem`` per invalid field so that a single load reports every
    mistake at once; ``str(error)`` renders them one per line in the shape
    ``<file>: <dotted.key> must be <expectation> (got <value>)``.
    """

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def key(self) -> str:
        return self.problems[0].key

    @property
    def path(self) -> str | None:
        return self.problems[0].path


class Problem:
    """One invalid field: where (file, dotted key), what was expected, what was given."""

    def __init__(self, key: str, expected: str, value: object = None, *, path: str | None = None,
                 suggestion: str | None = None, has_value: bool = True):
        self.key, self.expected, self.value = key, expected, value
        self.path, self.suggestion, self.has_value = path, suggestion, has_value

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        got = f" (got {self.value!r})" if self.has_value else ""
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return f"{where}{self.key} {self.expected}{got}{hint}"

    def __repr__(self) -> str:
        return f"Problem({str(self)!r})"


class UnsupportedByKernelError(QueueSimError):
    """The Numba kernel does not implement a feature the scenario uses."""


class SimulationError(QueueSimError):
    """A run failed for a reason the config could not have predicted (e.g. a routing loop)."""


class InvalidField(ValueError):
    """Raised inside schema validators to point at a dotted key other than the validator's own.

    The loader turns it into a ``Problem`` with that key, so cross-field checks (a route naming
    an unknown station) are reported at the field that is wrong.
    """

    def __init__(self, key: str, expected: str, value: object, choices: list[str] | None = None):
        self.key, self.expected, self.value, self.choices = key, expected, value, choices or []
        super().__init__(f"{key} {expected} (got {value!r})")


class InvalidSubfield(InvalidField):
    """An ``InvalidField`` whose key is relative to the section whose validator raises it (a
    section does not know where it sits): the loader puts the section's own key in front, so a
    check across two fields of one section still names the field that is wrong."""
