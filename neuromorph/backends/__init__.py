"""Backends: one module each, found by name through the ``neuromorph.backends`` entry points.

A backend turns a validated model (spec IR) into a :class:`~neuromorph.backends.base.Result`.
Backends are imported only when asked for, so ``neuromorph validate`` never loads a simulator.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from ..errors import NeuromorphError, unknown_name

GROUP = "neuromorph.backends"


class UnknownBackend(NeuromorphError):
    """A backend name that no installed backend answers to."""


def names() -> list[str]:
    """Names of the installed backends, in registration order."""
    return [ep.name for ep in entry_points(group=GROUP)]


def reference() -> str:
    """The name of the reference backend (the ground truth others are compared with)."""
    for ep in entry_points(group=GROUP):
        if getattr(ep.load(), "reference", False):
            return ep.name
    raise UnknownBackend("no reference backend is registered")


def generates_code(name: str) -> bool:
    """Whether backend ``name`` takes a code-generation target (``codegen``)."""
    import inspect

    eps = {ep.name: ep for ep in entry_points(group=GROUP)}
    return name in eps and "codegen" in inspect.signature(eps[name].load()).parameters


def get(name: str, codegen: str | None = None):
    """An instance of the backend called ``name``; ``codegen``: the Brian2 code-generation target
    (numpy, cython, cpp_standalone) for the backends that generate code."""
    eps = {ep.name: ep for ep in entry_points(group=GROUP)}
    if not eps:
        raise UnknownBackend("no backends are registered: install neuromorph (pip install -e .) first")
    if name not in eps:
        raise UnknownBackend(unknown_name("backend", name, list(eps)))
    cls = eps[name].load()
    if codegen is None:
        return cls()
    if not generates_code(name):
        raise UnknownBackend(f"--codegen applies to the backends that generate code, not to {name!r}")
    return cls(codegen=codegen)
