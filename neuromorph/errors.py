"""Errors that reach the user.

Every problem with user input is a :class:`Problem`: which file, which key path, what was
wrong, what is allowed. A :class:`SpecError` carries all problems found at once; the CLI
prints them and exits with status 2.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a user's input.

    Parameters
    ----------
    message : str
        What was found and what is allowed.
    path : str
        Dotted key path inside the file, e.g. ``params.gamma_mu``; empty for the whole file.
    file : str
        The file as the user named it; empty when the input did not come from a file.
    line : int or None
        1-based line in the file, when known.
    severity : {'error', 'warning'}
    """

    message: str
    path: str = ""
    file: str = ""
    line: int | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        parts = [p for p in (where, self.path) if p]
        return ": ".join(parts + [self.message])


class NeuromorphError(Exception):
    """Base class of all errors neuromorph raises on purpose."""


@dataclass
class SpecError(NeuromorphError):
    """Invalid input: one or more :class:`Problem` (errors, possibly with warnings)."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def did_you_mean(name: object, valid) -> str:
    """Return `` (did you mean 'x'?)`` for the closest valid name, or ``''``."""
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_of(valid) -> str:
    """Format a list of valid names: ``should be one of: a, b, c``."""
    return "should be one of: " + ", ".join(str(v) for v in valid)


def unknown_name(kind: str, name, valid) -> str:
    """Message for an unknown name, listing the valid ones."""
    return f"unknown {kind} {name!r}{did_you_mean(name, valid)}; {one_of(valid)}"
