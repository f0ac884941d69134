"""Sweep grids: ``KEY=V1,V2,...`` over a spec's dotted key paths, validated before anything runs.

A key is a path into the spec as :func:`neuromorph.spec.to_data` writes it (every key with its
default), e.g. ``spiking.tau_syn`` or ``task.presentation``; the family, format and name are not
swept. A value is read as a number when it looks like one (``5e-3`` included), else as YAML
(``true``, ``null``, ``lif``, ``[64, 32, 10]``); commas inside brackets do not split values.
Every grid point is the spec with its values set and validated like a spec file: a bad key or
value is reported with the key path, what was found and what is allowed.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass

import yaml

from ..errors import Problem, SpecError, did_you_mean

#: Top-level keys a sweep does not vary.
FIXED = ("family", "format_version", "name")

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Axis:
    """One swept key and its values, as given (``raw``) and as read."""

    key: str
    values: tuple
    raw: tuple


def split_values(text: str) -> list[str]:
    """``a,b,[c,d]`` -> ``['a', 'b', '[c,d]']`` (commas inside brackets do not split)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def read_value(text: str):
    """A number if ``text`` looks like one (int without a point or exponent), else YAML."""
    if _NUMBER.fullmatch(text):
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def leaf_keys(data: dict, prefix: str = "") -> list[str]:
    """Every dotted path to a value that is not a mapping (None and lists are values)."""
    keys = []
    for name, value in data.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            keys += leaf_keys(value, path + ".")
        elif path not in FIXED:
            keys.append(path)
    return keys


def parse_axes(specs: list[str], data: dict, file: str = "") -> list[Axis]:
    """Axes from ``--grid`` texts; raises :class:`SpecError` listing every bad key or text."""
    valid = leaf_keys(data)
    problems, axes, seen = [], [], set()
    for text in specs:
        key, sep, rest = text.partition("=")
        key = key.strip()
        raw = split_values(rest) if sep else []
        if not sep or not key or not rest.strip() or any(not r for r in raw):
            problems.append(Problem(f"--grid {text!r}: expected KEY=V1,V2,... with no empty value", "", file))
        elif key not in valid:
            problems.append(Problem(f"--grid: unknown key {key!r}{did_you_mean(key, valid)}; the keys of this "
                                    f"spec: {', '.join(valid)}", key, file))
        elif key in seen:
            problems.append(Problem(f"--grid: key {key!r} given twice; give all its values in one --grid", key, file))
        elif len(set(raw)) != len(raw):
            problems.append(Problem(f"--grid {text!r}: a value is repeated", key, file))
        else:
            seen.add(key)
            axes.append(Axis(key, tuple(read_value(r) for r in raw), tuple(raw)))
    if problems:
        raise SpecError(problems)
    return axes


def with_value(data: dict, key: str, value) -> dict:
    out = copy.deepcopy(data)
    *parents, leaf = key.split(".")
    node = out
    for part in parents:
        node = node[part]
    node[leaf] = value
    return out


def points(axes: list[Axis]) -> list[dict]:
    """Every combination of the axes' values, as {key: value}, the first axis varying slowest."""
    return [dict(zip([a.key for a in axes], combo)) for combo in itertools.product(*[a.values for a in axes])]


def models(axes: list[Axis], data: dict, file: str = "") -> list:
    """The validated model of every grid point; raises :class:`SpecError` with every problem
    (each naming the grid values it came from) before anything runs."""
    from .. import spec

    found, problems = [], []
    for point in points(axes):
        patched = data
        for key, value in point.items():
            patched = with_value(patched, key, value)
        model, found_problems = spec.validate_data(patched, file=file)
        where = ", ".join(f"{k}={_shown(v)}" for k, v in point.items())
        for p in found_problems:
            if p.severity == "error":
                problems.append(Problem(f"--grid {where}: {p.message}", p.path, file))
        found.append(model)
    if problems:
        unique = list({(p.path, p.message): p for p in problems}.values())
        raise SpecError(unique)
    return found


def _shown(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
