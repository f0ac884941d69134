"""Pydantic validation errors -> :class:`~neuromorph.errors.Problem` with plain messages.

Pydantic reports a location tuple (which may contain the tag of a tagged union) and an error
type. Walking the IR's type annotations along the location gives the user's key path and,
for an unknown key, the keys that would have been valid there.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Literal, Union

from ..errors import Problem, did_you_mean
from .common import describe
from .yamlio import line_of

_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping of keys",
    "dataclass_type": "a mapping of keys",
    "model_type": "a mapping of keys",
}


def _unwrap(tp):
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_members(tp):
    if typing.get_origin(tp) in (Union, getattr(__import__("types"), "UnionType", Union)):
        return [_unwrap(a) for a in typing.get_args(tp) if a is not type(None)]
    return None


def _tag_of(cls):
    for f in dataclasses.fields(cls):
        ann = _unwrap(typing.get_type_hints(cls, include_extras=True)[f.name])
        if typing.get_origin(ann) is Literal and f.name in ("kind", "family"):
            return typing.get_args(ann)
    return ()


def walk(root, loc):
    """Follow ``loc`` through the type annotations from ``root``.

    Returns
    -------
    (path, tp)
        ``path``: the user's key path (union tags removed); ``tp``: the type found there,
        or None when the walk leaves the annotated types.
    """
    path, tp = [], root
    for part in loc:
        tp = _unwrap(tp) if tp is not None else None
        members = _union_members(tp) if tp is not None else None
        if members:
            tagged = [m for m in members if dataclasses.is_dataclass(m) and part in _tag_of(m)]
            if tagged:
                tp = tagged[0]
                continue
            tp = next((m for m in members if dataclasses.is_dataclass(m)), None)
        path.append(part)
        if tp is None:
            continue
        if dataclasses.is_dataclass(tp):
            hints = typing.get_type_hints(tp, include_extras=True)
            tp = hints.get(part)
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) in (list, tuple):
            tp = typing.get_args(tp)[0]
        else:
            tp = None
    return path, (_unwrap(tp) if tp is not None else None)


def format_path(path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _keys_of(tp):
    members = _union_members(tp) or [tp]
    keys = []
    for m in members:
        if m is not None and dataclasses.is_dataclass(m):
            keys += [f.name for f in dataclasses.fields(m) if f.name not in keys]
    return keys


def _message(err: dict, root, loc) -> str:
    kind, ctx, found = err["type"], err.get("ctx") or {}, err.get("input")
    if kind.startswith("nm_"):  # raised by neuromorph's own validators: already plain
        return err["msg"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        _, parent = walk(root, loc[:-1])
        valid = _keys_of(parent)
        allowed = f"; allowed keys: {', '.join(valid)}" if valid else ""
        return f"unknown key{did_you_mean(loc[-1], valid)}{allowed}"
    if kind in ("missing", "missing_argument"):
        return "required key missing"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = ctx.get({">": "gt", ">=": "ge", "<": "lt", "<=": "le"}[op])
        return f"must be {op} {bound:g} (got {describe(found)})"
    if kind == "finite_number":
        return f"must be a finite number (got {found})"
    if kind == "literal_error":
        expected = ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
        shown = repr(found) if isinstance(found, str) else describe(found)
        return f"unknown value {shown}{did_you_mean(found, expected.split(', '))}; should be one of: {expected}"
    if kind == "union_tag_invalid":
        tags = ctx.get("expected_tags", "").replace("'", "")
        return f"unknown kind {ctx.get('tag')!r}; should be one of: {tags}"
    if kind == "union_tag_not_found":
        return f"missing key {ctx.get('discriminator', '')}".replace("'", "'")
    if kind == "string_pattern_mismatch":
        return f"{describe(found)} is not a valid name (letters, digits and _; starting with a letter)"
    if kind in ("string_too_long", "too_long"):
        return f"too long (at most {ctx.get('max_length')})"
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]} (got {describe(found)})"
    return err["msg"][0].lower() + err["msg"][1:] if err.get("msg") else kind


def problems_from_validation(error, root, file: str = "", lines: dict | None = None) -> list[Problem]:
    """Problems for every error in a pydantic ``ValidationError`` against IR class ``root``."""
    problems = []
    for err in error.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if p != "[key]")
        path, _ = walk(root, loc)
        if err["type"] == "union_tag_not_found":
            path = path + [err.get("ctx", {}).get("discriminator", "").strip("'")]
        message = _message(err, root, loc)
        line = line_of(lines or {}, tuple(path))
        problems.append(Problem(message, path=format_path(path), file=file, line=line))
    return problems
