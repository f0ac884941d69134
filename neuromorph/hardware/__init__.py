"""Hardware profiles (profile.py), fit checks (estimate.py, rules.py, check.py), weight
quantization (quantize.py) and energy estimates (energy.py)."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository's profile folder (next to the package in a source checkout).
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "hardware_profiles"


def profile_dirs() -> list[Path]:
    """Folders searched for ``NAME.yaml``: ``$NEUROMORPH_PROFILES`` (os.pathsep-separated), then the built-in one."""
    extra = [Path(p) for p in os.environ.get("NEUROMORPH_PROFILES", "").split(os.pathsep) if p]
    return [d for d in extra + [BUILTIN_DIR] if d.is_dir()]


def profile_names() -> list[str]:
    """Names of the profiles found (file stems), first folder wins."""
    names: list[str] = []
    for folder in profile_dirs():
        names += [p.stem for p in sorted(folder.glob("*.yaml")) if p.stem not in names]
    return names
