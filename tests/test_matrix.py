"""Every shipped model through every command, on every backend, target and profile: each run
either succeeds with its documented outputs or is refused with exit status 2 and a message that
says what would work. A model file added to ``models/`` (or a manifest to ``deploy/``) is covered
without editing this test. The refusals expected here are the table in ``docs/matrix.md``.

Default suite: short runs (a tenth of a second or a few images, small population codes, one
epoch); ``slow``: the same at the models' own lengths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from neuromorph import backends
from neuromorph.compare import metrics
from neuromorph.hardware import profile_names

from .conftest import MODELS, ROOT

MODEL_FILES = sorted(p.stem for p in MODELS.glob("*.yaml"))
MANIFESTS = sorted(p.stem for p in (ROOT / "deploy").glob("*.yaml"))
BACKENDS = backends.names()
PROFILES = profile_names()

#: (command, target) -> what the refusal says (exit status 2), for every model it applies to.
REFUSALS = {
    ("compile", "rate"): "backend 'rate' has nothing to compile; compile targets: brian2, brian2-spiking,",
}
#: Refusals that depend on the model: (command, target, what of the model) -> the message.
MODEL_REFUSALS = {
    ("train", "*", "no learning"): "has no learning to run; `train` is for nla, pc models",
    ("train", "brian2", "lanes"): "Brian2 synapses cannot share weights across lanes: learn with learning.lanes: 1",
    ("train", "brian2", "minibatches"): "pc networks learn from minibatches",
    ("train", "spiking", "pc"): "family 'pc' does not learn on spiking backends",
    # brian2-spiking: the shortened digits models (5 ms presentations) need a count read-out, and
    # learning reads filtered spikes; the other NLA models are not layered LIF networks
    ("train", "brian2-spiking", "nla"): "cannot learn on brian2-spiking: it needs",
    # nengo, loihi: the shipped NLA models learn on many lanes (or are not layered LIF networks):
    # learning there needs one lane (tests/test_learning_spikes.py trains a model that has one)
    ("train", "nengo", "nla"): "cannot learn on nengo: it needs",
    ("train", "loihi", "nla"): "cannot learn on loihi: it needs",
}


def shortened(name: str, folder: Path, full: bool) -> Path:
    """A copy of the shipped model (weights named by absolute path); in the default suite with
    small population codes and one short training epoch."""
    data = yaml.safe_load((MODELS / f"{name}.yaml").read_text())
    if data.get("weights"):
        data["weights"] = str(MODELS / data["weights"])
    if not full:
        data.setdefault("spiking", {})["neurons"] = 40
        task = data.get("task", {})
        for key, value in (("epochs", 1), ("train_duration", 0.2), ("eval_every", 0.1), ("test_duration", 0.1),
                           ("presentation", 0.005)):
            if key in task:
                task[key] = value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def duration_args(name: str, full: bool) -> list:
    """The CLI's --duration for a short run: a tenth of a second, or one presentation."""
    if full:
        return []
    data = yaml.safe_load((MODELS / f"{name}.yaml").read_text())
    presentation = data.get("task", {}).get("presentation")
    return ["--duration", str(0.005 if presentation else 0.1)]


def expect_refusal(res, message: str):
    assert res.code == 2, f"expected a refusal ({message}), got exit {res.code}: {res.err}"
    assert message in res.err and "Traceback" not in res.err


def learns(name: str) -> tuple:
    """(whether the model learns, its lanes, whether it learns from minibatches on the rate backend only)."""
    data = yaml.safe_load((MODELS / f"{name}.yaml").read_text())
    return data["family"] in ("nla", "pc"), data.get("learning", {}).get("lanes", 32), data["family"] == "pc"


def run_command(cli, tmp_path, name, command, target, full=False):
    spec = shortened(name, tmp_path, full)
    out = tmp_path / "out"
    if command == "validate":
        return cli("validate", spec), out
    if command == "simulate":
        return cli("simulate", spec, "-b", target, *duration_args(name, full), "--out", out), out
    if command == "compile":
        script = ["--out", tmp_path / "script.py"] if target.startswith("brian2") else []
        return cli("compile", spec, "--target", target, *script), out
    if command == "check":
        return cli("check", spec, "--profile", target), out
    if command == "export":
        extra = ["--approximate"] if target == "approximate" else []
        return cli("export", spec, "--out", out / "net.nir", *extra), out
    return cli("train", spec, "-b", target, "--out", out), out


#: Runs too long even shortened for the default suite (they run in the full, slow matrix).
LONG = {("nla_digits_microcircuit", "train", "rate"), ("nla_signals", "train", "brian2"),
        ("nla_digits_microcircuit", "simulate", "brian2")}  # Brian2 microcircuit: test_brian2_nla.py


#: Models whose network and code path another shipped model already runs (pc_digits; their update
#: rules are tests/test_pc.py's): the default suite validates them; their other cells run in the
#: full, slow matrix.
SAME_PATH = {"pc_digits_equilibrium", "mlp_backprop_digits"}
#: Models whose compiled network another shipped model's cells build the same way (kim_fig3_solid's
#: parameters, nla_digits' graph): the default suite validates them and trains nla_digits_fa (its
#: feedback alignment is its own); their other cells run in the full, slow matrix.
SAME_GRAPH = {"kim_fig3_dotted", "nla_digits_fa"}


#: Full training runs in spikes (15 epochs of 32 lanes in Brian2): their own slow tests run them
#: (tests/test_learning_spikes.py); the default suite's short cells are refused (a 5 ms
#: presentation needs a count read-out, and learning reads filtered spikes).
SPIKING_TRAINING = {("nla_digits", "train", "brian2-spiking"), ("nla_digits_fa", "train", "brian2-spiking"),
                    ("nla_teacher", "train", "brian2-spiking")}
#: Shipped models that learn in spikes in the default suite's short cells (0.2 s of training).
LEARN_IN_SPIKES = {("nla_teacher", "brian2-spiking")}


#: The default suite compiles to these (the other spiking targets build the same graph, and
#: `simulate` runs it there) and checks these profiles; the full matrix takes every one.
SHORT_COMPILE = ("brian2", "loihi")
SHORT_CHECK = ("loihi1",)


def cases(full: bool) -> list:
    out = [(m, "validate", "-") for m in MODEL_FILES]
    out += [(m, "simulate", b) for m in MODEL_FILES for b in BACKENDS]
    out += [(m, "compile", b) for m in MODEL_FILES for b in BACKENDS if full or b in SHORT_COMPILE]
    out += [(m, "check", p) for m in MODEL_FILES for p in PROFILES if full or p in SHORT_CHECK]
    out += [(m, "train", b) for m in MODEL_FILES for b in BACKENDS]
    out += [(m, "export", kind) for m in MODEL_FILES for kind in ("exact", "approximate")]
    if not full:  # their full-length cells cover them
        out = [c for c in out if not full_only(c)]
    else:  # a full epoch run in spikes: tests/test_learning_spikes.py trains them (slow)
        out = [c for c in out if c not in SPIKING_TRAINING]
    return [pytest.param(*c, id="-".join(c) + ("-full" if full else ""),
                         marks=[pytest.mark.slow] if full or c in LONG else []) for c in out]


def full_only(case: tuple) -> bool:
    """Cells that run only at full length, in the slow matrix."""
    name, command, target = case
    if name == "pc_digits" and command == "simulate":  # tests/test_pc.py runs it on every backend
        return True
    if name in SAME_GRAPH:
        return command not in ("validate", "train")
    return name in SAME_PATH and command != "validate"


def verdict(res, out, name, command, target):
    """The run succeeded with its documented outputs, or was refused as the table says."""
    learner, lanes, minibatches = learns(name)
    if command == "train" and not learner:
        return expect_refusal(res, MODEL_REFUSALS[("train", "*", "no learning")])
    if (command, target) in REFUSALS:
        return expect_refusal(res, REFUSALS[(command, target)])
    if command == "train" and target == "brian2" and minibatches:
        return expect_refusal(res, MODEL_REFUSALS[("train", "brian2", "minibatches")])
    if command == "train" and target == "brian2" and lanes > 1:
        return expect_refusal(res, MODEL_REFUSALS[("train", "brian2", "lanes")])
    if command == "train" and target in ("brian2-spiking", "nengo", "loihi") and (name, target) not in LEARN_IN_SPIKES:
        key = ("train", "spiking", "pc") if minibatches else ("train", target, "nla")
        return expect_refusal(res, MODEL_REFUSALS[key])
    if command == "export":
        # exact, or refused node by node with what NIR cannot say; --approximate always writes
        if target == "exact" and res.code == 2:
            assert "--approximate" in res.err and "Traceback" not in res.err and not out.exists(), res.err
            return None
        assert res.code == 0 and (out / "net.nir").is_file(), f"{name} export {target}: {res.code}\n{res.err}"
        return None
    if command == "check":
        # fits (0) or does not fit (1): either way every rule was applied and reported
        assert res.code in (0, 1) and "Traceback" not in res.err, res.err
        assert ("fits" in res.out) != ("does not fit" in res.out)
        return None
    assert res.code == 0, f"{name} {command} {target}: exit {res.code}\n{res.err}"
    expected = {"simulate": {"result.npz", "summary.json", "traces.png"},
                "train": {"weights.npz", "summary.json", "learning_curve.png"}}.get(command)
    if expected:
        assert {p.name for p in out.iterdir()} == expected
    return None


@pytest.mark.parametrize("name,command,target", cases(full=False) + cases(full=True))
def test_every_model_through_every_command(cli, tmp_path, name, command, target, request):
    full = request.node.get_closest_marker("slow") is not None
    res, out = run_command(cli, tmp_path, name, command, target, full)
    verdict(res, out, name, command, target)


# digits_on_loihi deploys the same network as digits_on_loihi_fast, at 100 ms: slow (9 s)
@pytest.mark.parametrize("manifest", [pytest.param(m, marks=pytest.mark.slow) if m == "digits_on_loihi" else m
                                      for m in MANIFESTS])
def test_every_manifest_validates_and_deploys_briefly(cli, tmp_path, manifest):
    data = yaml.safe_load((ROOT / "deploy" / f"{manifest}.yaml").read_text())
    data["model"] = str(shortened(Path(data["model"]).stem, tmp_path, full=False))
    run = data.setdefault("run", {})
    run.update(duration=0.1, seeds=1)
    if run.get("presentation_times"):
        run["presentation_times"] = [0.005]
        run["duration"] = 0.005
    path = tmp_path / f"{manifest}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    res = cli("deploy", path, "--out", tmp_path / "d")
    assert res.code == 0, res.err
    assert {"metrics.json", "report.md", "report.html"} <= {p.name for p in (tmp_path / "d").iterdir()}
    assert res.out.startswith(f"{manifest}: {Path(data['model']).stem} on {data['target']}")
    doc = json.loads((tmp_path / "d" / "metrics.json").read_text())
    metrics.validate(doc)
    assert doc["deploy"]["target"] == data["target"]
    named = {"rate", data["target"], *data.get("compare_with", [])}
    assert named <= set(doc["backends"])
    assert all(b.startswith("rate-quantized:") for b in set(doc["backends"]) - named)  # the chip's weights, rate model
