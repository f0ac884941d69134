"""Reading a document (model spec, deployment manifest, hardware profile): one loader for all,
so every kind reports a missing file, a folder, binary content or malformed YAML the same way."""

from __future__ import annotations

from pathlib import Path

from ..errors import Problem, SpecError
from .yamlio import read_yaml


def read_text(path, kind: str) -> tuple:
    """(text or None, problems) of the file at ``path``; ``kind`` names what it should be."""
    file = str(path)
    try:
        return Path(path).read_text(encoding="utf-8"), []
    except FileNotFoundError:
        return None, [Problem("no such file", file=file)]
    except IsADirectoryError:
        return None, [Problem(f"is a directory, not a {kind} file", file=file)]
    except UnicodeDecodeError as e:
        return None, [Problem(f"not a text file (UTF-8): {e.reason} at byte {e.start}", file=file)]
    except OSError as e:
        return None, [Problem(f"cannot read: {e.strerror or e}", file=file)]


def parse(text: str, file: str = "") -> tuple:
    """(data, key path -> line, problems) of YAML (or JSON) text."""
    try:
        data, lines = read_yaml(text, file)
    except SpecError as e:
        return None, {}, e.problems
    return data, lines, []


def read_document(path, kind: str) -> tuple:
    """(data, key path -> line, problems) of the document at ``path``."""
    text, problems = read_text(path, kind)
    if text is None:
        return None, {}, problems
    return parse(text, str(path))
