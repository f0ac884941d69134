"""Learning in spikes: sample-steps per second of output-layer learning on nengo and loihi (emulator)
against the rate reference's, on the same images, in the same process.

nla_digits on one lane (learning in spikes shares the weights), its shipped hidden layer and a
zero output layer: each backend presents the same ``--images`` training images (100 ms each)
with learning on. The rate reference learns every layer with its explicit scheme (the baseline);
the spiking backends learn the output layer by PES from spikes. Reports each throughput and its
ratio to the rate reference's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neuromorph import backends, families, spec
from neuromorph.families.nla.rate import NLAEngine
from neuromorph.tasks.engines import LearningGraphEngine

from _common import report, timed

MODEL = Path(__file__).resolve().parents[1] / "models" / "nla_digits.yaml"


def one_lane_model():
    data = spec.to_data(spec.load(MODEL))
    data["learning"].update(lanes=1, eta=10.0)
    data["weights"] = str(MODEL.parent / data["weights"])
    return spec.validate_data(data)[0]


def learn(backend: str, images: int) -> int:
    """Present ``images`` training images with learning on; return the sample-steps run."""
    model = one_lane_model()
    family = families.of(model)
    start = family.spiking_initial_weights(model)
    if backend == "rate":
        engine = NLAEngine(model, weights=start)
    else:
        engine = LearningGraphEngine(family, model, start, backends.get(backend))
    task = family.trainer(model)
    task.present(engine, task.train_idx[:images][None, :], learn=True)
    return engine.stats["steps"]


def main(images: int) -> dict:
    rows: dict = {"images": images}
    base = None
    for name in ("rate", "nengo", "loihi"):
        steps, wall = timed(learn, name, images)
        rows[f"{name}_sample_steps_per_s"] = steps / wall
        base = base or steps / wall
        if name != "rate":
            rows[f"{name}_vs_rate"] = (steps / wall) / base
    report("learning_spikes", rows)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=50)
    main(ap.parse_args().images)
