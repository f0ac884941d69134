"""The network graph: every primitive serializes losslessly, bad graphs are refused naming the node
or edge, legalization records what it changes, graphs print."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neuromorph.graph import (IF, LI, LIF, PES, AnalogEncoder, Alpha, BernoulliEncoder, Connection, CubaLIF, Decoded,
                              DoubleExp, Graph, GraphError, Host, Input, Integrator, Lowpass, PoissonEncoder, Probe,
                              RegularEncoder, Signal, Substitution, Traits, describe, legalize)
from neuromorph.graph import serialize
from neuromorph.graph.nodes import NODE_TYPES


def every_primitive() -> Graph:
    rng = np.random.default_rng(1)
    nodes = {
        "x": Input(3),
        "spk": Input(2, kind="spikes"),
        "sig": Signal(rng.normal(size=(5, 3)), 0.002),
        "poisson": PoissonEncoder(3, 250.0),
        "bernoulli": BernoulliEncoder(3, 500.0),
        "regular": RegularEncoder(3, 100.0, phase=np.array([0.0, 0.25, 0.5])),
        "analog": AnalogEncoder(3, gain=2.0),
        "ens": LIF(4, tau_rc=0.03, tau_ref=0.001, threshold=1.2, reset=-0.1, reset_mode="subtract",
                   bias=rng.normal(size=4), v0=rng.uniform(size=(2, 4)), v_min=-1.0, encoders=rng.normal(size=(4, 2)),
                   gain=rng.uniform(1, 2, size=4)),
        "ifn": IF(2, tau=0.5, tau_ref=0.002, threshold=1.0, bias=0.3),
        "cuba": CubaLIF(2, tau_syn=0.003, tau_rc=0.01, threshold=0.5, reset_mode="subtract", bias=0.1,
                        syn_bias=np.array([0.0, 0.2]), v0=rng.uniform(size=2), i0=rng.uniform(size=(2, 2))),
        "read": LI(2, tau=0.01, bias=np.array([0.1, -0.1]), v0=np.array([0.0, 1.0])),
        "host": Host(2, function="clip", params={"low": -1.0, "high": 1.0}),
        "count": Integrator(2, bias=np.array([0.5, 0.0]), gain=2.0, v0=np.array([0.0, 1.0])),
    }
    edges = (
        Connection("x", "poisson", 1.0), Connection("x", "bernoulli", 1.0), Connection("x", "regular", 1.0),
        Connection("x", "analog", 1.0), Connection("sig", "ens", rng.normal(size=(2, 3)), into="ensemble"),
        Connection("poisson", "ens", rng.normal(size=(4, 3)), Alpha(0.005)),
        Connection("spk", "ifn", np.eye(2), Lowpass(0.002), history=rng.normal(size=(6, 2)), history_dt=0.0005),
        Decoded("ens", "ens", rng.normal(size=(4, 2)), None, Lowpass(0.1)),
        Decoded("ens", "read", rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), Alpha(0.01),
                history=rng.normal(size=(4, 3)), history_dt=0.001),
        Connection("read", "host", 0.5),
        Connection("ifn", "cuba", rng.normal(size=(2, 2))), Connection("cuba", "cuba", rng.normal(size=(2, 2))),
        Connection("ens", "ens", rng.normal(size=(4, 4)), Lowpass(0.02)),  # recurrent
        Connection("ifn", "count", rng.normal(size=(2, 2))),
        Connection("regular", "read", rng.normal(size=(2, 3)), DoubleExp(0.002, 0.02), history=rng.normal(size=(3, 2)),
                   history_dt=0.001),
        Connection("ens", "host", rng.normal(size=(2, 4)), Lowpass(0.005),
                   learning=PES("read", rate=1e-3, pre_tau=0.01, error_max=0.5)),
    )
    probes = {"y": Probe("host"), "s": Probe("ens", "spikes"), "v": Probe("read", "voltage")}
    subs = (Substitution("x.y", "this", "that", "because", {"n": 3}),)
    return Graph("all", nodes, edges, probes, dt=0.0005, copies=2, substitutions=subs, notes=("a note",),
                 meta={"decode_tau": 0.2})


def same(a, b) -> bool:
    """Deep equality of serialized graph data (arrays by value)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and np.array_equal(a, b) and a.dtype == b.dtype
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def test_every_node_type_is_in_the_round_trip_graph():
    assert {type(n).__name__ for n in every_primitive().nodes.values()} == set(NODE_TYPES)


@pytest.mark.parametrize("via", ["data", "file"])
def test_every_primitive_round_trips_losslessly(via, tmp_path):
    graph = every_primitive()
    if via == "data":
        again = serialize.from_data(serialize.to_data(graph))
    else:
        serialize.save(graph, tmp_path / "g.npz")
        again = serialize.load(tmp_path / "g.npz")
    assert same(serialize.to_data(again), serialize.to_data(graph))
    for name, node in graph.nodes.items():
        assert type(again.nodes[name]) is type(node)
    assert [type(e) for e in again.edges] == [type(e) for e in graph.edges]
    assert [type(e.synapse) for e in again.edges] == [type(e.synapse) for e in graph.edges]


@pytest.mark.parametrize("change,message", [
    (lambda g: g.with_nodes(ens=dataclasses.replace(g.nodes["ens"], tau_rc=-1.0)),
     "node 'ens': tau_rc must be a finite number > 0 (got -1.0)"),
    (lambda g: g.with_nodes(read=dataclasses.replace(g.nodes["read"], bias=np.ones(3))),
     "node 'read': bias has shape (3,); allowed: a number, (2,) or (2, 2)"),
    (lambda g: g.replace(edges=g.edges + (Connection("x", "nowhere", 1.0),)),
     "edge 'x -> nowhere': unknown node 'nowhere'"),
    (lambda g: g.replace(edges=g.edges + (Connection("ens", "read", np.ones((3, 4))),)),
     "edge 'ens -> read': weights have shape (3, 4); expected (target size, source size) = (2, 4)"),
    (lambda g: g.replace(edges=g.edges + (Connection("read", "x", 1.0),)), "Input node 'x' takes no input"),
    (lambda g: g.replace(edges=g.edges + (Decoded("read", "ens", np.ones((2, 2))),)),
     "a decoded edge starts at a LIF ensemble"),
    (lambda g: g.replace(edges=g.edges + (Connection("ens", "ens", np.full((4, 4), np.nan)),)),
     "weights are not all finite"),
    (lambda g: g.replace(probes={"p": Probe("read", "spikes")}), "probe 'p': node 'read' (LI) does not spike"),
    (lambda g: g.with_nodes(host=Host(2, function="sine")), "unknown host function 'sine'"),
])
def test_bad_graphs_are_refused_naming_the_node_or_edge(change, message):
    with pytest.raises(GraphError) as info:
        change(every_primitive())
    assert message in str(info.value)


def test_legalization_records_each_change_and_leaves_the_original():
    nodes = {"x": Input(2), "enc": PoissonEncoder(2, 2000.0), "n": LIF(3, v0=np.full(3, 0.5)), "out": LI(1)}
    edges = (Connection("x", "enc", 1.0), Connection("enc", "n", np.ones((3, 2)), Alpha(0.01)),
             Connection("n", "out", np.ones((1, 3)), Alpha(0.01)))
    graph = Graph("g", nodes, edges, dt=0.0001)
    chip = Traits("chip", dt=0.001, synapses=frozenset({"none", "lowpass"}), chip=True, offchip_spikes_per_step=1,
                  settable_voltage=False, weight_bits=8)
    legal = legalize(graph, chip)
    ids = [s.id for s in legal.substitutions]
    assert ids == ["dt", "synapse.alpha_on_chip", "input.poisson_off_chip", "input.split",
                   "neuron.initial_voltage", "weights.discretized", "neuron.loihi_lif"]
    # 2 kHz on a 1 ms clock: two Bernoulli neurons per input at 1 kHz, each with the input's weights
    enc = legal.nodes["enc"]
    assert isinstance(enc, BernoulliEncoder) and (enc.size, enc.max_rate) == (4, 1000.0)
    assert np.array_equal(legal.edges[0].weights, np.vstack([np.eye(2)] * 2))
    assert np.array_equal(legal.edges[1].weights, np.ones((3, 4))) and legal.nodes["n"].v0 is None
    assert legal.edges[1].synapse.tau == pytest.approx(0.02) and isinstance(legal.edges[1].synapse, Lowpass)
    assert isinstance(legal.edges[2].synapse, Alpha)  # the read-out runs on the host: alpha kept
    assert legal.dt == 0.001 and graph.dt == 0.0001 and isinstance(graph.nodes["enc"], PoissonEncoder)
    assert legalize(graph, Traits("cpu")) .substitutions == ()


def test_unsupported_reset_mode_becomes_reset_to_zero_or_is_refused():
    graph = Graph("g", {"n": LIF(2, reset_mode="subtract")}, dt=0.001)
    legal = legalize(graph, Traits("chip", reset_modes=frozenset({"zero"})))
    assert legal.nodes["n"].reset_mode == "zero" and legal.substitutions[0].id == "neuron.reset_to_zero"
    with pytest.raises(GraphError, match="node 'n': chip has no 'subtract' reset"):
        legalize(graph, Traits("chip", reset_modes=frozenset({"other"})))


def test_describe_lists_nodes_edges_probes_and_substitutions():
    text = describe(every_primitive())
    assert "graph 'all': 13 nodes, 16 edges, dt = 0.5 ms, 2 copies" in text
    assert "learns by PES(rate 0.001, error 'read', trace 10 ms)" in text
    assert "count: Integrator x 2 (gain 2, bias" in text
    assert "ens: LIF x 4 (tau_rc 30 ms, tau_ref 1 ms, threshold 1.2, reset subtract to -0.1" in text
    assert "poisson -> ens: 4x3 weights" in text and "synapse Alpha(5 ms)" in text
    assert "ens => read: decoded 3-d, synapse Alpha(10 ms), primed" in text
    assert "regular -> read: 2x3 weights" in text and "synapse DoubleExp(2 ms, 20 ms), primed" in text
    assert "# substitution: [x.y] this -> that (because)" in text
    assert "probes: y = value of host, s = spikes of ens, v = voltage of read" in text


def test_an_ensemble_in_parts_computes_what_the_whole_does_edge_by_edge():
    """populations_on_cores on every kind of edge at an ensemble (inputs into its space and into
    its neurons, decoded and neuron-to-neuron recurrence, decoded and direct read-outs with
    history, two copies): 10 neurons on a chip of 4 input axons become parts of 4, 3 and 3, and
    Nengo runs both graphs to the same read-outs (to rounding)."""
    from neuromorph import backends
    from neuromorph.graph import DecodePath
    from neuromorph.graph.legalize import populations_on_cores

    rng = np.random.default_rng(4)
    n = 10
    nodes = {"sig": Signal(rng.uniform(-1, 1, size=(40, 3)), 0.005),
             "ens": LIF(n, bias=rng.uniform(0.5, 1.5, n), v0=rng.uniform(size=(2, n)), encoders=rng.normal(size=(n, 2)),
                        gain=rng.uniform(1, 3, n)),
             "read": LI(2, tau=0.01), "direct": LI(2, tau=0.01)}
    edges = (Connection("sig", "ens", rng.normal(size=(2, 3)), Lowpass(0.005), into="ensemble"),
             Connection("sig", "ens", rng.normal(size=(n, 3)), Lowpass(0.005)),
             Decoded("ens", "ens", rng.normal(size=(n, 2)) * 0.01, None, Lowpass(0.05)),
             Connection("ens", "ens", rng.normal(size=(n, n)) * 0.01, Lowpass(0.02)),
             Decoded("ens", "read", rng.normal(size=(n, 2)) * 0.01, None, Lowpass(0.01),
                     history=rng.normal(size=(3, 2)), history_dt=0.001),
             Connection("ens", "direct", rng.normal(size=(2, n)) * 0.01, Lowpass(0.01), history=rng.normal(size=(3, 2)),
                        history_dt=0.001))
    probes = {"read": Probe("read", "value"), "direct": Probe("direct", "value")}
    whole = Graph("g", nodes, edges, probes, dt=0.001, copies=2)
    chip = Traits(name="chip", chip=True, decode=DecodePath(tau=0.005, latency=0.002, gain=1.0), input_axons=4)
    parted = populations_on_cores(whole, chip)
    assert [parted.nodes[f"ens.{j}"].size for j in range(3)] == [4, 3, 3] and "ens" not in parted.nodes
    assert "ens" in whole.nodes and [s.id for s in parted.substitutions] == ["population.parts"]
    assert populations_on_cores(whole, dataclasses.replace(chip, input_axons=n)) is whole

    nengo = backends.get("nengo")
    runs = [nengo.run_graph(g, duration=0.2, sample_dt=0.001, seed=2) for g in (whole, parted)]
    for key in probes:
        assert np.ptp(runs[0].probes[key]) > 1e-3
        np.testing.assert_allclose(runs[1].probes[key], runs[0].probes[key], atol=1e-12, err_msg=key)
