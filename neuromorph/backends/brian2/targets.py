"""Brian2 code-generation targets: names, availability, project-local caches."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ...errors import NeuromorphError, unknown_name

#: Targets a user may name, in order of preference for a fresh machine (numpy needs no compiler).
TARGETS = ("numpy", "cython", "cpp_standalone")
DEFAULT = "numpy"


class TargetError(NeuromorphError):
    """Unknown or unavailable code-generation target."""


def cache_root() -> Path:
    """Where compiled code goes: ``$NEUROMORPH_CACHE`` or ``.cache/`` in the working folder."""
    return Path(os.environ.get("NEUROMORPH_CACHE", ".cache")) / "brian2"


def check(target: str) -> str:
    if target not in TARGETS:
        raise TargetError(unknown_name("code-generation target", target, TARGETS))
    if target != "numpy" and shutil.which(os.environ.get("CC", "gcc")) is None:
        raise TargetError(f"code-generation target {target!r} needs a C compiler (gcc), and none was found; "
                          "use --codegen numpy")
    return target


def activate(target: str, cache_dir=None) -> None:
    """Select ``target`` for the Brian2 objects created next."""
    import brian2 as b2

    check(target)
    root = Path(cache_dir) if cache_dir else cache_root()
    b2.prefs.logging.console_log_level = "WARNING"
    if target == "cpp_standalone":
        b2.set_device("cpp_standalone", directory=str(root / "standalone"), build_on_run=True)
        b2.device.reinit()
        b2.set_device("cpp_standalone", directory=str(root / "standalone"), build_on_run=True)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        return
    b2.prefs.codegen.target = target
    if target == "cython":
        b2.prefs.codegen.runtime.cython.cache_dir = str(root / "cython")


def deactivate(target: str) -> None:
    """Back to the runtime device after a standalone run."""
    if target == "cpp_standalone":
        import brian2 as b2

        b2.device.reinit()
        b2.set_device("runtime")
