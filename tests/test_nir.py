"""NIR in and out: graphs written with the ``nir`` API in three tools' conventions run on every
spiking backend against an independent NumPy stepping of NIR's equations; our graphs go out and
come back identical; bad files and unexportable models are refused node by node.

Tolerances: Brian2 and Nengo step the same per-step map in float64, so spikes are identical; the
Loihi emulator runs a graph's steps on its 1 ms integer clock (8-bit weights, 12-bit decays), so
spike counts per neuron agree within 15 % + 2."""

from __future__ import annotations

import json

import nir
import numpy as np
import pytest
import yaml

from neuromorph import backends
from neuromorph.backends.base import SpikingBackend
from neuromorph.graph import legalize
from neuromorph.interop import nir as nm_nir

from .conftest import MODELS, load_data

SPIKING = [n for n in backends.names() if isinstance(backends.get(n), SpikingBackend)]
EXACT = ("brian2-spiking", "nengo")
DT = 1e-4
DIGITS_NIR = pytest.mark.xdist_group("digits_nir")  # tests sharing the exported digits variant: one worker


def spikes_in(steps: int, n: int, p: float, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(size=(steps, n)) < p).astype(float)


# -- an independent NumPy stepping of NIR's equations (forward Euler or exponential, per step) --


def gains(tau, dt, integration):
    """(decay a, input gain g) of one step."""
    if integration == "euler":
        return 1 - dt / tau, dt / tau
    a = np.exp(-dt / tau)
    return a, 1 - a


def step_lif(state, current, p, dt, integration, reset):
    a, g = gains(p["tau"], dt, integration)
    v = a * state["v"] + g * (p["v_leak"] + p["r"] * current)
    s = v > p["v_threshold"]
    v = np.where(s, v - p["v_threshold"] if reset == "subtract" else p["v_reset"], v)
    state["v"] = v
    return s.astype(float)


def step_cuba(state, current, p, dt, integration, reset):
    a_s, g_s = gains(p["tau_syn"], dt, integration)
    a_m, g_m = gains(p["tau_mem"], dt, integration)
    state["i"] = a_s * state["i"] + g_s * p["w_in"] * current
    v = a_m * state["v"] + g_m * (p["v_leak"] + p["r"] * state["i"])
    s = v > p["v_threshold"]
    state["v"] = np.where(s, v - p["v_threshold"] if reset == "subtract" else p["v_reset"], v)
    return s.astype(float)


def chain_graph(kind="LIF", reset="zero", recurrent=False, style="snntorch"):
    """Input(3) -> Affine -> hidden (LIF or CubaLIF, optionally recurrent) -> Linear -> LIF -> Output,
    with parameters as a tool writes them: snnTorch (r = tau/dt), Norse (r = 1), Rockpool
    (exponential, r = tau e^(-dt/tau) / dt)."""
    rng = np.random.default_rng(7)
    n_in, n_h, n_o = 3, 6, 2
    tau = np.full(n_h, 2e-3)
    r = {"snntorch": tau / DT, "norse": np.ones(n_h), "rockpool": tau * np.exp(-DT / tau) / DT}[style]
    scale = {"snntorch": 0.6, "norse": 15.0, "rockpool": 0.6}[style]
    meta = {"reset": "subtract"} if reset == "subtract" else {}
    if kind == "LIF":
        hidden = nir.LIF(tau=tau, r=r, v_leak=np.zeros(n_h), v_threshold=np.ones(n_h), v_reset=np.zeros(n_h),
                         metadata=meta)
    else:
        tau_syn = np.full(n_h, 1e-3)
        hidden = nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau, r=r, v_leak=np.zeros(n_h), v_threshold=np.ones(n_h),
                             v_reset=np.zeros(n_h), w_in=tau_syn / DT, metadata=meta)
    nodes = {
        "input": nir.Input(np.array([n_in])),
        "fc1": nir.Affine(rng.uniform(0, scale, (n_h, n_in)), rng.uniform(0, 0.05 * scale, n_h)),
        "hidden": hidden,
        "fc2": nir.Linear(rng.uniform(0, 2 * scale, (n_o, n_h))),
        "out": nir.LIF(tau=np.full(n_o, 4e-3), r=np.full(n_o, 40.0 if style == "snntorch" else 1.0) *
                       (1 if style != "norse" else 1.0), v_leak=np.zeros(n_o), v_threshold=np.ones(n_o),
                       v_reset=np.zeros(n_o)),
        "output": nir.Output(np.array([n_o])),
    }
    edges = [("input", "fc1"), ("fc1", "hidden"), ("hidden", "fc2"), ("fc2", "out"), ("out", "output")]
    if recurrent:
        nodes["rec"] = nir.Linear(rng.uniform(-0.5, 0.5, (n_h, n_h)) * scale)
        edges += [("hidden", "rec"), ("rec", "hidden")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def reference(graph, x, integration="euler", reset="zero") -> np.ndarray:
    """Output spikes of a chain_graph by stepping NIR's equations (the recurrent edge carries the
    previous step's spikes)."""
    n = graph.nodes
    hp = {k: np.asarray(v, float) for k, v in n["hidden"].to_dict().items() if isinstance(v, np.ndarray)}
    op = {k: np.asarray(v, float) for k, v in n["out"].to_dict().items() if isinstance(v, np.ndarray)}
    hs = {"v": np.zeros(len(hp["r"])), "i": np.zeros(len(hp["r"]))}
    os_ = {"v": np.zeros(len(op["r"]))}
    prev = np.zeros(len(hp["r"]))
    step_h = step_lif if isinstance(n["hidden"], nir.LIF) else step_cuba
    out = []
    for k in range(len(x)):
        current = n["fc1"].weight @ x[k] + n["fc1"].bias
        if "rec" in n:
            current = current + n["rec"].weight @ prev
        s_h = step_h(hs, current, hp, DT, integration, reset)
        prev = s_h
        out.append(step_lif(os_, n["fc2"].weight @ s_h, op, DT, integration, "zero"))
    return np.array(out)


def run_file(backend, path, x, integration=None):
    imported = nm_nir.read(path, dt=DT, integration=integration)
    sim = backends.get(backend)
    graph = legalize(imported.graph, sim.traits())
    rec = sim.run_graph(graph, inputs={"input": x}, input_dt=graph.dt, duration=len(x) * graph.dt,
                        sample_dt=graph.dt, seed=0)
    return rec.probes["spikes.output"][:, 0, :]


def agree(backend, got, expected):
    assert expected.sum() > 20, "the test graph should spike"
    if backend in EXACT:
        np.testing.assert_array_equal(got, expected)
    else:
        counts, ref = got.sum(axis=0), expected.sum(axis=0)
        assert np.all(np.abs(counts - ref) <= 0.15 * ref + 2), (counts, ref)


@pytest.mark.parametrize("backend", SPIKING)
@pytest.mark.parametrize("kind,reset,recurrent", [("LIF", "zero", False), ("LIF", "subtract", False),
                                                  ("CubaLIF", "zero", True), ("CubaLIF", "subtract", True)])
def test_graphs_written_with_the_nir_api_match_nir_stepped_in_numpy(backend, kind, reset, recurrent, tmp_path):
    graph = chain_graph(kind, reset, recurrent)
    nir.write(tmp_path / "g.nir", graph)
    x = spikes_in(1500, 3, 0.2, 1)
    agree(backend, run_file(backend, tmp_path / "g.nir", x), reference(graph, x, "euler", reset))


@pytest.mark.parametrize("backend", EXACT)
@pytest.mark.parametrize("style,integration", [("snntorch", "euler"), ("norse", "euler"),
                                               ("rockpool", "exponential")])
def test_three_tools_conventions(backend, style, integration, tmp_path):
    """snnTorch writes r = tau/dt (one unit of input moves v by one unit), Norse r = 1 (and steps
    forward Euler), Rockpool r = tau e^(-dt/tau)/dt for an exponential integrator: each file,
    read by its tool's convention, gives that convention's spikes."""
    graph = chain_graph("LIF", "zero", False, style)
    nir.write(tmp_path / "g.nir", graph)
    x = spikes_in(1500, 3, 0.2, 2)
    got = run_file(backend, tmp_path / "g.nir", x, integration)
    np.testing.assert_array_equal(got, reference(graph, x, integration))


def nested(graph):
    """The same network with its recurrent hidden layer inside a subgraph (as snnTorch writes
    recurrent layers)."""
    n = graph.nodes
    size = np.array([n["fc1"].weight.shape[0]])
    block = nir.NIRGraph(nodes={"input": nir.Input(size), "hidden": n["hidden"], "rec": n["rec"],
                                "output": nir.Output(size)},
                         edges=[("input", "hidden"), ("hidden", "rec"), ("rec", "hidden"), ("hidden", "output")])
    nodes = {"input": n["input"], "fc1": n["fc1"], "block": block, "fc2": n["fc2"], "out": n["out"],
             "output": n["output"]}
    edges = [("input", "fc1"), ("fc1", "block"), ("block", "fc2"), ("fc2", "out"), ("out", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


@pytest.mark.parametrize("backend", ["brian2-spiking", "nengo"])
def test_nested_subgraphs_run_as_the_flat_graph(backend, tmp_path):
    flat = chain_graph("CubaLIF", "zero", True)
    nir.write(tmp_path / "n.nir", nested(flat))
    x = spikes_in(1500, 3, 0.2, 5)
    np.testing.assert_array_equal(run_file(backend, tmp_path / "n.nir", x, "euler"), reference(flat, x))


def test_snntorch_leaky_update_is_the_euler_convention():
    """snnTorch's Leaky (beta, reset to zero) exported as tau = dt/(1 - beta), r = tau/dt steps as
    mem = beta mem + W s: the forward-Euler reading at dt = 1e-4 s (its export's dt)."""
    beta, rng = 0.9, np.random.default_rng(3)
    tau = DT / (1 - beta)
    W, x = rng.uniform(0, 0.6, (4, 3)), spikes_in(400, 3, 0.3, 4)
    mem, ours, p = np.zeros(4), {"v": np.zeros(4)}, {"tau": tau, "r": tau / DT, "v_leak": 0.0,
                                                      "v_threshold": 1.0, "v_reset": 0.0}
    for k in range(len(x)):  # snnTorch's documented update, reset_delay: the reset applies next step
        reset = mem > 1.0
        mem = beta * (mem * (1 - reset)) + W @ x[k]
        assert np.array_equal(mem > 1.0, step_lif(ours, W @ x[k], p, DT, "euler", "zero") > 0)


# -- our graphs out and back ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_nir(tmp_path_factory):
    from neuromorph import api

    folder = tmp_path_factory.mktemp("export")
    exported = api.export(MODELS / "nla_digits_nir.yaml", folder / "d.nir", inputs=folder / "in.npz")
    return exported, folder


@DIGITS_NIR
def test_nir_variant_of_digits_exports_exactly(digits_nir):
    exported, folder = digits_nir
    assert exported.approximations == []
    assert any("input encoders" in n for n in exported.notes)
    graph = nir.read(folder / "d.nir")
    kinds = [type(graph.nodes[b]).__name__ for a, b in graph.edges]
    # a read-out projection without bias is written as Linear
    assert kinds in (["Affine", "CubaLIF", k, "LI", "Output"] for k in ("Affine", "Linear"))
    meta = json.loads(graph.metadata["neuromorph.record"])
    assert meta["dt"] == 1e-4 and meta["integration"] == "euler"
    z = np.load(folder / "in.npz")
    assert z["input"].shape[1] == 64 and float(z["dt"]) == 1e-4 and "meta.labels" in z.files


@DIGITS_NIR
@pytest.mark.parametrize("backend", SPIKING)
def test_round_trip_gives_identical_spikes(backend, digits_nir):
    """export -> nir.read -> import -> run: the same spikes as the graph we exported, on the same
    backend (200 ms of the digits network's input)."""
    from neuromorph import families, spec

    _, folder = digits_nir
    model = spec.load(MODELS / "nla_digits_nir.yaml")
    family = families.of(model)
    sim = backends.get(backend)
    ours = family.lower(model, family.weights(model, str(MODELS)), sim.traits())
    z = np.load(folder / "in.npz")
    x = z["input"][:2000]
    if backend == "loihi":  # the chip takes at most one spike per step from off chip
        x = np.minimum(x, 1.0)
    imported = nm_nir.read(folder / "d.nir")
    a = legalize(ours.replace(meta={**ours.meta, "discrete": True}), sim.traits())
    b = legalize(imported.graph, sim.traits())
    # our graph starts at the encoder's spikes: drive its encoder's target edges from the same spikes
    a = a.replace(nodes={**{k: v for k, v in a.nodes.items() if k != "x"},
                         "input": type(imported.graph.nodes["input"])(64, kind="spikes")},
                  edges=tuple(e for e in a.edges if e.source != "x"))
    run = dict(inputs={"input": x}, input_dt=b.dt, duration=len(x) * b.dt, sample_dt=b.dt, seed=0)
    ra, rb = sim.run_graph(a, **run), sim.run_graph(b, **run)
    np.testing.assert_array_equal(ra.spikes["h1"], rb.spikes["h1"])
    np.testing.assert_allclose(ra.probes["u_out"][1:, 0], rb.probes["v.u_out"][1:, 0], rtol=1e-9, atol=1e-9)


def test_unexportable_model_is_refused_node_by_node(cli, tmp_path):
    res = cli("export", MODELS / "nla_digits.yaml", "--out", tmp_path / "d.nir")
    assert res.code == 2 and "Traceback" not in res.err
    lines = [ln for ln in res.err.splitlines() if ln.startswith("  ")]
    assert any("node 'h1' (LIF): refractory period 2 ms" in ln for ln in lines)
    assert any("edge 'input -> h1': synapse Alpha(15 ms)" in ln for ln in lines)
    assert all("--approximate" in ln for ln in lines)
    assert not (tmp_path / "d.nir").exists()
    res = cli("export", MODELS / "nla_digits.yaml", "--out", tmp_path / "d.nir", "--approximate")
    assert res.code == 0 and "exported approximately" in res.out
    assert res.err.count("approximation: ") == 5 and nir.read(tmp_path / "d.nir")


def test_kim_population_network_exports_with_approximate(cli, tmp_path):
    data = load_data("kim_fig3_solid")
    data["spiking"] = {**data.get("spiking", {}), "neurons": 40}  # a small code: the structure is the point
    spec = tmp_path / "kim.yaml"
    spec.write_text(yaml.safe_dump(data))
    res = cli("export", spec, "--out", tmp_path / "k.nir")
    assert res.code == 2 and "population-coded ensemble" in res.err
    res = cli("export", spec, "--out", tmp_path / "k.nir", "--approximate",
              "--inputs", tmp_path / "k.npz")
    assert res.code == 0, res.err
    assert "decoded (NEF) projection exported as its full weight matrix" in res.err
    graph = nir.read(tmp_path / "k.nir")
    assert {"s", "bm_0", "state_0"} <= set(graph.nodes)
    assert np.load(tmp_path / "k.npz")["s"].shape == (100000, 1)


@pytest.mark.parametrize("backend", ["brian2-spiking", "nengo"])
def test_read_out_sum_exports_and_reads_back_exactly(backend, tmp_path):
    """A per-step read-out (LI with tau = 0: value = W s / dt + b, the spikes as pulses) becomes a
    NIR junction and reads back with the same values."""
    from neuromorph.graph import LI, LIF, Connection, Graph, Input, Probe

    rng = np.random.default_rng(7)
    ours = Graph("readout", {"x": Input(3, kind="spikes"), "h": LIF(5, tau_rc=0.02, tau_ref=0.0, bias=0.3),
                             "y": LI(2, tau=0.0, bias=np.array([0.5, -0.25]))},
                 (Connection("x", "h", rng.uniform(0, 0.01, (5, 3))),
                  Connection("h", "y", rng.normal(0, 1e-3, (2, 5)))),
                 {"y": Probe("y", "value")}, dt=DT, meta={"discrete": True})  # run at its own step
    exported = nm_nir.export(ours)
    assert exported.approximations == []
    nm_nir.write(exported, tmp_path / "r.nir")
    imported = nm_nir.read(tmp_path / "r.nir")
    sim = backends.get(backend)
    x = spikes_in(800, 3, 0.3, 8)
    run = dict(inputs={"x": x}, input_dt=DT, duration=len(x) * DT, sample_dt=DT, seed=0)
    a = sim.run_graph(legalize(ours, sim.traits()), **run).probes["y"]
    (out,) = imported.outputs.values()  # the probe's output node
    b = sim.run_graph(legalize(imported.graph, sim.traits()), **run).probes[out["v"]]
    assert np.std(a[1:, 0]) > 0
    np.testing.assert_allclose(b[1:, 0], a[1:, 0], rtol=1e-9, atol=1e-9)


def end_of_presentation_accuracy(v: np.ndarray, z) -> float:
    """Argmax of the read-out at the end of each presentation over the real test images (as the
    digits task scores)."""
    steps = int(z["meta.presentation_steps"])
    ends, real = v[steps - 1::steps], z["meta.real"].astype(bool)
    return float(np.mean(ends.argmax(axis=1)[real] == z["meta.labels"][real]))


@pytest.mark.slow
def test_approximate_digits_export_cost(tmp_path, capsys):
    """nla_digits exported with --approximate (refractory period and voltage floor dropped, alpha
    synapses as two LI stages; Poisson encoders become the file's input spikes) keeps its accuracy
    on our backends: measured against the model's own spiking network on the same backend, the
    449 test images at 100 ms (input spikes drawn from the same rates, another realization)."""
    from neuromorph import api

    exported = api.export(MODELS / "nla_digits.yaml", tmp_path / "d.nir", approximate=True,
                          inputs=tmp_path / "in.npz")
    assert len(exported.approximations) == 5
    z = np.load(tmp_path / "in.npz")
    res = api.simulate(api.load_nir(tmp_path / "d.nir", input=tmp_path / "in.npz"), "nengo").result
    approx = end_of_presentation_accuracy(np.asarray(res.traces["v.u_out"]), z)
    own = api.simulate(MODELS / "nla_digits.yaml", "nengo").result.metrics["accuracy"]
    with capsys.disabled():
        print(f"\n  nla_digits on nengo, 100 ms: own graph {own:.4f}, exported with --approximate {approx:.4f}")
    assert own > 0.9 and abs(approx - own) <= 0.03


# -- bad files: one line, the file and the node, exit 2, nothing written --------------------------


def bad_files(tmp_path) -> dict:
    good = chain_graph()
    nir.write(tmp_path / "good.nir", good)
    (tmp_path / "corrupt.nir").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    import h5py

    import shutil

    shutil.copy(tmp_path / "good.nir", tmp_path / "unknown.nir")
    with h5py.File(tmp_path / "unknown.nir", "r+") as f:
        del f["node/nodes/hidden/type"]
        f["node/nodes/hidden/type"] = "Spiky"
    shutil.copy(tmp_path / "good.nir", tmp_path / "nan.nir")
    with h5py.File(tmp_path / "nan.nir", "r+") as f:
        tau = f["node/nodes/hidden/tau"][()]
        tau[2] = np.nan
        f["node/nodes/hidden/tau"][...] = tau
    shutil.copy(tmp_path / "good.nir", tmp_path / "shapes.nir")
    with h5py.File(tmp_path / "shapes.nir", "r+") as f:
        del f["node/nodes/fc2/weight"]
        f["node/nodes/fc2/weight"] = np.ones((2, 5))
    return {"missing.nir": "no such file", "corrupt.nir": "not a readable NIR (HDF5) file",
            "unknown.nir": "node 'hidden' has unknown type 'Spiky'", "nan.nir": "node 'hidden' (LIF): tau has "
            "non-finite values", "shapes.nir": "node 'fc2' (Linear): weight has shape (2, 5); its input has 6 values"}


def test_bad_nir_files_get_one_line_naming_file_and_node(cli, tmp_path):
    cases = bad_files(tmp_path)
    x = tmp_path / "in.npz"
    np.savez(x, dt=DT, input=spikes_in(10, 3, 0.5, 0))
    for name, message in cases.items():
        out = tmp_path / f"out_{name}"
        res = cli("simulate", tmp_path / name, "-b", "nengo", "--input", x, "--out", out)
        assert res.code == 2, (name, res.err)
        assert "Traceback" not in res.err and len(res.err.strip().splitlines()) == 1, res.err
        assert str(tmp_path / name) in res.err and message in res.err, res.err
        assert not out.exists()


def test_bad_input_files_are_refused(cli, tmp_path):
    nir.write(tmp_path / "g.nir", chain_graph())
    cases = {"no_dt": ({"input": np.zeros((5, 3))}, "no 'dt'"),
             "other_dt": ({"dt": 1e-3, "input": np.zeros((5, 3))}, "but the graph is read at dt"),
             "shape": ({"dt": DT, "input": np.zeros((5, 4))}, "expected (steps, 3)"),
             "name": ({"dt": DT, "inptu": np.zeros((5, 3))}, "names no input node (inputs: input)")}
    for key, (arrays, message) in cases.items():
        np.savez(tmp_path / f"{key}.npz", **arrays)
        res = cli("simulate", tmp_path / "g.nir", "-b", "nengo", "--input", tmp_path / f"{key}.npz",
                  "--out", tmp_path / key)
        assert res.code == 2 and message in res.err and not (tmp_path / key).exists(), res.err


def test_simulate_writes_spikes_and_voltages_of_every_output(cli, tmp_path):
    nir.write(tmp_path / "g.nir", chain_graph("CubaLIF", "zero", True))
    x = spikes_in(800, 3, 0.2, 5)
    np.savez(tmp_path / "in.npz", dt=DT, input=x)
    res = cli("simulate", tmp_path / "g.nir", "-b", "brian2-spiking", "--input", tmp_path / "in.npz",
              "--out", tmp_path / "o")
    assert res.code == 0, res.err
    z = np.load(tmp_path / "o" / "result.npz")
    assert set(z.files) == {"t", "spikes.output", "v.output"}
    assert z["spikes.output"].shape == (800, 2) and z["v.output"].shape == (800, 2)
    np.testing.assert_allclose(z["t"], np.arange(1, 801) * DT)
    np.testing.assert_array_equal(z["spikes.output"], reference(nir.read(tmp_path / "g.nir"), x))
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["nir"]["dt"] == DT and len(summary["nir"]["sha256"]) == 64


def test_compare_check_and_deploy_take_nir_files(cli, tmp_path):
    nir.write(tmp_path / "g.nir", chain_graph("CubaLIF", "zero", True))
    np.savez(tmp_path / "in.npz", dt=DT, input=spikes_in(600, 3, 0.2, 6))
    res = cli("compare", tmp_path / "g.nir", "--input", tmp_path / "in.npz", "--out", tmp_path / "c")
    assert res.code == 0, res.err
    doc = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert doc["reference"] == "brian2-spiking" and list(doc["backends"]) == ["brian2-spiking", "nengo", "loihi"]
    assert doc["backends"]["nengo"]["spike_agreement"]["spikes.output"]["van_rossum"] == 0.0
    assert doc["backends"]["loihi"]["spike_agreement"]["spikes.output"]["count_correlation"] > 0.8
    res = cli("check", tmp_path / "g.nir", "--profile", "loihi1")
    assert res.code == 0 and "fits" in res.out and "hidden[0]: 6 neurons" in res.out, res.out + res.err
    (tmp_path / "m.yaml").write_text("format_version: 1\nkind: deployment\nname: g_on_loihi\nmodel: g.nir\n"
                                     "input: in.npz\ntarget: loihi\nhardware_profile: loihi1\n"
                                     "compare_with: [brian2-spiking]\n")
    res = cli("deploy", tmp_path / "m.yaml", "--out", tmp_path / "d")
    assert res.code == 0, res.err
    assert json.loads((tmp_path / "d" / "metrics.json").read_text())["deploy"]["target"] == "loihi"
