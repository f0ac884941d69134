"""NLA training throughput: sample-steps per second, batched (lanes) vs one sample at a time.

Both runs train nla_digits (soft-LIF, explicit scheme) on the same images for the same number
of steps per sample, in the same process: the batched engine runs L lanes at once, the
baseline runs lanes = 1 (the per-sample loop). Reports both throughputs, their ratio, and the
peak traced memory of the batched run.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import yaml

from neuromorph import spec
from neuromorph.families.nla.rate import NLAEngine
from neuromorph.tasks.digits import Digits

from _common import peak_memory, report, timed

MODEL = Path(__file__).resolve().parents[1] / "models" / "nla_digits.yaml"


def engine_and_task(lanes: int):
    data = yaml.safe_load(MODEL.read_text())
    data = copy.deepcopy(data)
    data.pop("weights", None)
    data["learning"]["lanes"] = lanes
    model = spec.validate_data(data)[0]
    return NLAEngine(model), Digits(model)


def train_slots(lanes: int, slots: int) -> int:
    """Present ``slots`` images per lane with learning on; return the sample-steps done."""
    engine, task = engine_and_task(lanes)
    order, _ = task.lanes_order(task.train_idx[: lanes * slots])
    task.present(engine, order, learn=True)
    return engine.stats["steps"] * lanes


def main(lanes: int, slots: int, single_slots: int) -> dict:
    batched, wall_b = timed(train_slots, lanes, slots)
    single, wall_s = timed(train_slots, 1, single_slots)
    peak = peak_memory(train_slots, lanes, max(1, slots // 4))
    rows = {
        "lanes": lanes,
        "batched_sample_steps": batched,
        "batched_wall_s": wall_b,
        "batched_sample_steps_per_s": batched / wall_b,
        "single_sample_steps": single,
        "single_wall_s": wall_s,
        "single_sample_steps_per_s": single / wall_s,
        "speedup_batched_vs_single": (batched / wall_b) / (single / wall_s),
        "batched_peak_traced_memory_mib": peak,
    }
    report("nla_training", rows)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lanes", type=int, default=32)
    ap.add_argument("--slots", type=int, default=20, help="images per lane in the batched run")
    ap.add_argument("--single-slots", type=int, default=20, help="images in the one-at-a-time run")
    args = ap.parse_args()
    main(args.lanes, args.slots, args.single_slots)
