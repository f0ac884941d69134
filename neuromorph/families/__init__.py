"""The model families' maths, backend-neutral: ``bm`` (Kim 2024), ``nla`` (Senn et al. 2024) and
``pc`` (predictive coding, Song et al. 2020), each behind the :class:`~neuromorph.families.base.Family` interface.

Families are found by name: the built-in ones here, others added with :func:`register` (a test's
toy family, a plugin)."""

from __future__ import annotations

from importlib import import_module

from ..errors import NeuromorphError, unknown_name
from .base import Family, UnsupportedModel

#: Built-in families: name -> "module:class", imported when first asked for.
REGISTRY = {
    "bm": "neuromorph.families.bm:BMFamily",
    "nla": "neuromorph.families.nla.family:NLAFamily",
    "nir": "neuromorph.families.nir:NirFamily",
    "pc": "neuromorph.families.pc.family:PCFamily",
}

_registered: dict = {}
_loaded: dict = {}


def register(family: Family) -> None:
    """Make ``family`` (an instance) available by its name."""
    _registered[family.name] = family


def unregister(name: str) -> None:
    _registered.pop(name, None)


def names() -> list:
    return list(REGISTRY) + [n for n in _registered if n not in REGISTRY]


def get(name: str) -> Family:
    """The family called ``name``."""
    if name in _registered:
        return _registered[name]
    if name not in REGISTRY:
        raise NeuromorphError(unknown_name("family", name, names()))
    if name not in _loaded:
        module, cls = REGISTRY[name].split(":")
        _loaded[name] = getattr(import_module(module), cls)()
    return _loaded[name]


def of(model) -> Family:
    """The family of a loaded model."""
    return get(model.family)


__all__ = ["Family", "UnsupportedModel", "REGISTRY", "register", "unregister", "names", "get", "of"]
