"""NIR files between neuromorph and snnTorch (``make test-interop``; needs the ``interop`` extra).

- our exactly exported digits variant, read by snnTorch's own NIR importer and run on the same
  input spikes, classifies the test images as our backends do (within 1 point);
- a network snnTorch writes runs on our backends with the output spikes snnTorch computes.

snnTorch steps NIR's continuous-time neurons at dt = 1e-4 s with forward Euler (r = tau/dt: one
unit of input moves v by one unit), our default convention (docs/nir.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")

from snntorch.export_nir import export_to_nir  # noqa: E402
from snntorch.import_nir import import_from_nir  # noqa: E402

from neuromorph import api  # noqa: E402

from ..conftest import MODELS  # noqa: E402

pytestmark = pytest.mark.interop

DT = 1e-4
#: test images run on both sides (of the 449 held out; the whole set takes ~10 min on Brian2)
IMAGES = 200


def run_snntorch(module, x: np.ndarray) -> np.ndarray:
    """Outputs of an imported snnTorch module per step for inputs x (steps, n)."""
    out = []
    with torch.no_grad():
        for row in torch.as_tensor(x, dtype=torch.float32):
            y = module(row[None, :])
            out.append((y[0] if isinstance(y, tuple) else y)[0].numpy().copy())
    return np.asarray(out)


def without_readout(graph):
    """The graph up to the read-out's input current (snnTorch's importer has no LI node): the
    node feeding the LI read-out becomes the output."""
    li = next(k for k, n in graph.nodes.items() if isinstance(n, nir.LI))
    feed = next(a for a, b in graph.edges if b == li)
    keep = {k: n for k, n in graph.nodes.items() if k != li and not isinstance(n, nir.Output)}
    size = np.asarray(graph.nodes[feed].weight).shape[0]
    keep["output"] = nir.Output(output_type={"output": np.array([size])})
    edges = [(a, b) for a, b in graph.edges if a in keep and b in keep] + [(feed, "output")]
    return nir.NIRGraph(nodes=keep, edges=edges), graph.nodes[li]


def leaky_readout(node, current: np.ndarray) -> np.ndarray:
    """NIR's LI, tau dv/dt = v_leak - v + r I, stepped by forward Euler at DT."""
    a = DT / np.asarray(node.tau, dtype=float)
    v, out = np.zeros(current.shape[1]), []
    for row in current:
        v = v + a * (np.asarray(node.v_leak) - v + np.asarray(node.r) * row)
        out.append(v.copy())
    return np.asarray(out)


def accuracy(v: np.ndarray, z, images: int) -> float:
    """Argmax of the read-out at the end of each presentation, over the real test images."""
    steps = int(z["meta.presentation_steps"])
    ends = v[steps - 1::steps][:images]
    labels, real = z["meta.labels"][:images], z["meta.real"][:images].astype(bool)
    return float(np.mean(ends.argmax(axis=1)[real] == labels[real]))


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    api.export(MODELS / "nla_digits_nir.yaml", folder / "d.nir", inputs=folder / "full.npz")
    z = dict(np.load(folder / "full.npz"))
    steps = IMAGES * int(z["meta.presentation_steps"])
    z["input"] = z["input"][:steps]
    np.savez(folder / "in.npz", **z)
    return folder, z


def test_snntorch_classifies_our_digits_variant_as_we_do(digits, capsys):
    folder, z = digits
    graph, li = without_readout(nir.read(folder / "d.nir"))
    current = run_snntorch(import_from_nir(graph), z["input"])
    theirs = accuracy(leaky_readout(li, current), z, IMAGES)
    ours = {}
    for backend in ("nengo", "brian2-spiking"):
        res = api.simulate(api.load_nir(folder / "d.nir", input=folder / "in.npz"), backend).result
        ours[backend] = accuracy(np.asarray(res.traces["v.u_out"]), z, IMAGES)
    with capsys.disabled():
        print(f"\n  digits variant, {IMAGES} test images: snnTorch {theirs:.4f}, ours {ours}")
    for value in ours.values():
        assert abs(theirs - value) <= 0.01


def written_by_snntorch(net, sample):
    """snnTorch's own export. snnTorch 1.0.0 with nir 1.0.8: its graph (input shape with the batch
    dimension, [1, n]) fails NIR's type inference, and its scalar parameters are 0-d arrays that
    ``nir.write`` (h5py with compression) refuses: we skip the inference and store each scalar as
    a one-element array; the values are snnTorch's."""
    infer = nir.NIRGraph.infer_types
    nir.NIRGraph.infer_types = lambda self: None
    try:
        graph = export_to_nir(net, sample, model_name="snntorch")
    finally:
        nir.NIRGraph.infer_types = infer
    for node in graph.nodes.values():
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if isinstance(value, float) or (isinstance(value, np.ndarray) and value.ndim == 0):
                setattr(node, f.name, np.atleast_1d(np.asarray(value, dtype=float)))
    return graph


def test_network_written_by_snntorch_runs_on_ours(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), snn.Leaky(beta=0.9, init_hidden=True),
                              torch.nn.Linear(6, 3), snn.Leaky(beta=0.8, init_hidden=True, output=True))
    with torch.no_grad():
        net[0].weight.mul_(3.0)
        net[2].weight.mul_(3.0)
    graph = written_by_snntorch(net, torch.zeros(1, 4))
    nir.write(tmp_path / "t.nir", graph)
    x = (np.random.default_rng(1).random((3000, 4)) < 0.2).astype(float)
    np.savez(tmp_path / "in.npz", dt=DT, input=x)
    theirs = run_snntorch(import_from_nir(nir.read(tmp_path / "t.nir", type_check=False)), x)
    assert theirs.sum() > 50  # the network is active
    out = next(k for k, n in graph.nodes.items() if isinstance(n, nir.Output))
    for backend in ("brian2-spiking", "nengo"):
        res = api.simulate(api.load_nir(tmp_path / "t.nir", input=tmp_path / "in.npz"), backend).result
        np.testing.assert_array_equal(np.asarray(res.traces[f"spikes.{out}"]), theirs)
