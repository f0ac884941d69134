"""YAML reading with line numbers, duplicate-key detection and clear syntax errors."""

from __future__ import annotations

import re

import yaml

from ..errors import Problem, SpecError


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                f"key {key!r} first given on line {seen[key] + 1}",
                node.start_mark,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


# YAML 1.1 (PyYAML) reads 1e-8 as text; YAML 1.2 and JSON read it as a number. So do we.
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(text: str, file: str = ""):
    """Parse YAML text.

    Returns
    -------
    (data, lines)
        ``data`` is the parsed document; ``lines`` maps key paths (tuples) to 1-based lines.

    Raises
    ------
    SpecError
        For malformed YAML, with line and column.
    """
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        what = " ".join(str(x) for x in (e.problem, e.context) if x) or "malformed YAML"
        msg = f"malformed YAML{col}: {what}"
        raise SpecError([Problem(msg, file=file, line=line)]) from None
    except yaml.YAMLError as e:
        raise SpecError([Problem(f"malformed YAML: {e}", file=file)]) from None
    except RecursionError:
        raise SpecError([Problem("malformed YAML: nested too deeply", file=file)]) from None
    lines: dict[tuple, int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return data, lines


def _collect_lines(node, path, lines, depth=0):
    lines.setdefault(path, node.start_mark.line + 1)
    if depth > 50:
        return
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            _collect_lines(value_node, path + (key,), lines, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _collect_lines(item, path + (i,), lines, depth + 1)


def line_of(lines: dict, path: tuple) -> int | None:
    """Line of the longest known prefix of ``path``."""
    for n in range(len(path), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in path[:n])
        if key in lines:
            return lines[key]
    return None


def dump_yaml(data) -> str:
    """YAML text for plain data, keys in insertion order."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, allow_unicode=True)
