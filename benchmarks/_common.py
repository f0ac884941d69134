"""Helpers for benchmarks: timing, peak memory, and writing a JSON report next to the table."""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from pathlib import Path

OUT = Path(os.environ.get("NEUROMORPH_BENCH_OUT", Path(__file__).resolve().parents[1] / "out" / "bench"))


def timed(fn, *args, **kwargs):
    """Run ``fn`` once; return (result, wall seconds)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def peak_memory(fn, *args, **kwargs) -> float:
    """Peak memory (MiB) traced by ``tracemalloc`` while ``fn`` runs (NumPy reports its arrays).

    Tracing slows allocation down, so time and memory are measured in separate runs.
    """
    tracemalloc.start()
    try:
        fn(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def report(name: str, rows: dict) -> Path:
    """Print ``rows`` as a two-column table and write them to ``out/bench/NAME.json``."""
    width = max(len(k) for k in rows)
    print(f"\n{name}")
    for key, value in rows.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown}")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(rows, indent=2))
    return path
