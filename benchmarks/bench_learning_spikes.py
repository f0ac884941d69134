"""Learning in spikes: sample-steps per second (time steps x lanes) of NLA learning on the spiking
backends against the rate reference's, on the same images, in the same process.

- One lane, the output layer (nengo, loihi emulator): nla_digits with its shipped hidden layer and
  a zero output layer, learning by PES from spikes; baseline: the rate reference on one lane.
- 32 lanes, every layer (brian2-spiking, cython): the shipped nla_digits from its seeded
  weights, the hidden layer by its dendritic error, the lanes sharing their weights; baseline: the
  rate reference on 32 lanes.

Each backend presents the same ``--images`` training images per lane (100 ms each) with learning
on. Reports each throughput and its ratio to its baseline's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neuromorph import backends, families, spec
from neuromorph.families.nla.rate import NLAEngine
from neuromorph.tasks.engines import LearningGraphEngine

from _common import report, timed

MODEL = Path(__file__).resolve().parents[1] / "models" / "nla_digits.yaml"


def model_with(lanes: int):
    data = spec.to_data(spec.load(MODEL))
    if lanes == 1:
        data["learning"].update(lanes=1, eta=10.0)
    data["weights"] = str(MODEL.parent / data["weights"])
    return spec.validate_data(data)[0]


def learn(backend: str, images: int, lanes: int) -> int:
    """Present ``images`` training images on each of ``lanes`` lanes with learning on; return the
    sample-steps run."""
    model = model_with(lanes)
    family = families.of(model)
    if backend == "rate":
        start = family.spiking_initial_weights(model) if lanes == 1 else family.initial_weights(model)
        engine = NLAEngine(model, weights=start)
    else:
        simulator = backends.get(backend, codegen="cython") if backend.startswith("brian2") else backends.get(backend)
        start = family.spiking_initial_weights(model, rules=simulator.traits().learning_rules)
        engine = LearningGraphEngine(family, model, start, simulator)
    task = family.trainer(model)
    order = task.train_idx[:images * lanes].reshape(lanes, images)
    task.present(engine, order, learn=True)
    return engine.stats["steps"] * lanes


def main(images: int) -> dict:
    rows: dict = {"images_per_lane": images}
    for lanes, names in ((1, ("rate", "nengo", "loihi")), (32, ("rate", "brian2-spiking"))):
        base = None
        for name in names:
            steps, wall = timed(learn, name, images, lanes)
            rows[f"{name}_{lanes}_lanes_sample_steps_per_s"] = steps / wall
            base = base or steps / wall
            if name != "rate":
                rows[f"{name}_{lanes}_lanes_vs_rate"] = (steps / wall) / base
    report("learning_spikes", rows)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=20)
    main(ap.parse_args().images)
