"""What a run records about itself: versions, platform, the spec's hash."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib.metadata import PackageNotFoundError, version


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def versions(extra: dict | None = None) -> dict:
    """Versions of Python, neuromorph and the numeric stack, plus ``extra`` (a backend's own)."""
    found = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "neuromorph": package_version("neuromorph"),
        "numpy": package_version("numpy"),
        "scipy": package_version("scipy"),
    }
    found.update(extra or {})
    return found


def data_hash(data) -> str:
    """SHA-256 of the canonical JSON of ``data`` (keys sorted)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
