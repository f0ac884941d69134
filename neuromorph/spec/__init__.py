"""Model specs: YAML (or JSON) files <-> the intermediate representation (IR).

A spec names its ``family``; the family's IR class (a frozen dataclass tree) declares every
key, type and bound. Loading runs in two passes and reports every problem of a pass at once:

1. structure: unknown or missing keys, wrong types, bad numbers, unknown names;
2. meaning (when 1 passed): lengths against the population, names used in expressions,
   time grid, finiteness of inputs, and a warning when dt is coarse for the model's dynamics.
"""

from __future__ import annotations

import json
from importlib import import_module
from pathlib import Path
from typing import cast

from pydantic import TypeAdapter, ValidationError

from ..errors import Problem, SpecError, unknown_name
from .common import describe
from .pydantic_errors import format_path, problems_from_validation
from .documents import parse, read_text
from .yamlio import dump_yaml, line_of

FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)

#: family name -> module holding the IR class ``MODEL`` and its ``check`` function.
FAMILIES = {
    "bm": "neuromorph.spec.bm",
    "nla": "neuromorph.spec.nla",
    "pc": "neuromorph.spec.pc",
}


def family_module(name: str):
    return import_module(FAMILIES[name])


def model_class(family: str):
    return family_module(family).MODEL


def validate_data(data, file: str = "", lines: dict | None = None):
    """Validate parsed spec data.

    Returns
    -------
    (model or None, problems)
        ``model`` is None when any problem is an error.
    """
    lines = lines or {}

    def at(path: tuple, message: str, severity: str = "error") -> Problem:
        return Problem(message, path=format_path(path), file=file, line=line_of(lines, path), severity=severity)

    if not isinstance(data, dict):
        return None, [at((), f"a model spec is a mapping of keys (got {describe(data)})")]
    problems = []
    version = data.get("format_version")
    if "format_version" not in data:
        problems.append(at((),
                           f"missing key 'format_version' (this neuromorph reads format_version: {FORMAT_VERSION})"))
    elif version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        problems.append(at(("format_version",),
                           f"unsupported format version {describe(version)}; this neuromorph reads: {supported}"))
    family = data.get("family")
    if "family" not in data:
        problems.append(at((), f"missing key 'family'; should be one of: {', '.join(FAMILIES)}"))
    elif not isinstance(family, str) or family not in FAMILIES:
        problems.append(at(("family",), unknown_name("family", family, list(FAMILIES))))
    if problems:
        return None, problems
    cls = model_class(cast(str, family))  # a known family: checked above
    try:
        model = TypeAdapter(cls).validate_python(data)
    except ValidationError as e:
        return None, problems_from_validation(e, cls, file, lines)
    found = family_module(cast(str, family)).check(model)
    for p in found:
        path = tuple(_split_path(p.path))
        problems.append(at(path, p.message, p.severity) if p.path else Problem(p.message, file=file,
                                                                               severity=p.severity))
    errors = [p for p in problems if p.severity == "error"]
    return (None if errors else model), problems


def _split_path(dotted: str):
    for part in dotted.replace("[", ".").replace("]", "").split("."):
        yield int(part) if part.isdigit() else part


def validate_text(text: str, file: str = ""):
    """Validate spec text (YAML or JSON): ``(model or None, problems)``."""
    data, lines, problems = parse(text, file)
    return (None, problems) if problems else validate_data(data, file, lines)


def validate_file(path) -> tuple:
    """Validate a spec file: ``(model or None, problems)``."""
    path_str = str(path)
    text, problems = read_text(path, "model spec")
    if text is None:
        return None, problems
    model, problems = validate_text(text, path_str)
    if model is not None and getattr(model, "weights", None):
        weights = Path(model.weights)
        weights = weights if weights.is_absolute() else Path(path).parent / weights
        if not weights.is_file():
            problems.append(Problem(f"no such file {str(weights)!r} (relative paths start at the spec's folder)",
                                    path="weights", file=path_str))
            model = None
    return model, problems


def load(path):
    """Load and validate a model spec file; raise :class:`SpecError` listing every problem.

    Warnings (e.g. a coarse dt) do not stop loading; they are available as
    ``neuromorph.spec.load_with_problems`` for callers that want them.
    """
    model, problems = validate_file(path)
    if model is None:
        raise SpecError(problems)
    return model


def to_data(model) -> dict:
    """The model as plain data (JSON types), ready for YAML or JSON; loads back equal."""
    return TypeAdapter(type(model)).dump_python(model, mode="json")


def to_yaml(model) -> str:
    return dump_yaml(to_data(model))


def to_json(model) -> str:
    return json.dumps(to_data(model), indent=2)


def save(model, path) -> None:
    """Write the model to ``path`` as YAML (``.yaml``/``.yml``) or JSON (``.json``)."""
    from ..files import write_text_atomic

    path = Path(path)
    text = to_json(model) if path.suffix == ".json" else to_yaml(model)
    write_text_atomic(path, text)
