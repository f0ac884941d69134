r"""Network graphs to and from NIR, the Neuromorphic Intermediate Representation (``nir`` 1.0).

NIR nodes are continuous-time equations with no step: tools differ in how they step them. We read
and write every file by one documented convention, the one snnTorch, Norse, Lava and SpiNNaker 2
use (and the NIR paper's examples):

- **per-step input**: in each step of length dt a node's input I_k is the sum of what reaches it in
  that step: a spike counts 1, a value its value;
- **forward Euler** (``integration="euler"``, the default): for a LIF,
  :math:`v_k = v_{k-1} + \frac{dt}{\tau}(v_{leak} - v_{k-1} + r I_k)`, then a spike if
  :math:`v_k > v_{th}` and the reset; CubaLIF's current first,
  :math:`I_k = I_{k-1} + \frac{dt}{\tau_{syn}}(w_{in} x_k - I_{k-1})`, then its voltage from
  :math:`I_k`; LI like LIF without spikes; IF :math:`v_k = v_{k-1} + dt\,r\,I_k`. The other
  reading, ``integration="exponential"`` (Rockpool, SpiNNaker 2's exponential integrator), uses
  :math:`e^{-dt/\tau}` for the decay and :math:`1 - e^{-dt/\tau}` for the input's gain;
- **edges in a step**: an edge from a node earlier in the graph's order carries this step's output,
  an edge closing a cycle the previous step's;
- **dt**: the file's ``neuromorph.dt`` metadata when we wrote it, else 1e-4 s (snnTorch and Lava
  assume it; Norse's default is 1e-3), or what the user passes.

Our spiking backends integrate exactly with the input held over the step, so a NIR node becomes
our node with :math:`\tau' = -dt / \ln(1 - dt/\tau)` (forward Euler) or :math:`\tau' = \tau`
(exponential): the same per-step map, step for step. Reset by subtraction has no NIR field; it
travels in node metadata ``reset: subtract`` (as tools that support it are told out of band).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import NeuromorphError
from ..graph import (IF, LI, LIF, AnalogEncoder, BernoulliEncoder, Connection, CubaLIF, Decoded, Graph, Host, Input,
                     Integrator, PoissonEncoder, Probe, RegularEncoder, Signal)
from ..graph.edges import stages

INTEGRATIONS = ("euler", "exponential")
#: The step a file is read with when it does not say (snnTorch, Lava and the NIR paper's files).
DEFAULT_DT = 1e-4
#: Node types we read, and those NIR has that no backend here runs.
NEURONS = ("LIF", "CubaLIF", "IF", "LI")
LINEAR = ("Affine", "Linear", "Scale")
UNSUPPORTED = ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten", "Threshold", "Delay", "I", "CubaLI")


class NirError(NeuromorphError):
    """A NIR file or graph we cannot read or write; the message names the file and the node."""


# -- conventions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stepping:
    """How a NIR time constant is stepped: dt (s) and the integration rule."""

    dt: float
    integration: str = "euler"

    def decay(self, tau: np.ndarray, where: str) -> np.ndarray:
        """Per-step decay a of a NIR time constant (0 < a < 1)."""
        tau = np.asarray(tau, dtype=float)
        if self.integration == "exponential":
            return np.exp(-self.dt / tau)
        if np.any(tau <= self.dt):
            raise NirError(f"{where}: tau = {float(np.min(tau)):g} s is not longer than the step dt = {self.dt:g} s; "
                           "forward Euler needs tau > dt (read the file with a smaller --nir-dt, or "
                           "--integration exponential)")
        return 1.0 - self.dt / tau

    def ours(self, tau, where: str) -> float:
        """Our (exactly integrated) time constant with the same per-step decay: -dt / ln a."""
        a = self.decay(tau, where)
        value = -self.dt / np.log(a)
        if np.ptp(value) > 1e-9 * np.max(value):
            raise NirError(f"{where}: time constants differ between neurons; neuromorph's populations share one")
        return float(np.max(value))

    def nir_tau(self, tau: float) -> float:
        """The NIR time constant whose step (by this rule) decays as e^(-dt/tau) does."""
        if self.integration == "exponential":
            return tau
        return self.dt / -math.expm1(-self.dt / tau)


# -- names ----------------------------------------------------------------------------------------


def _safe(name: str, taken: set) -> str:
    """A NIR node name other tools accept as a module name: letters, digits, underscores."""
    base = re.sub(r"\W+", "_", name).strip("_") or "node"
    out, k = base, 1
    while out in taken:
        k += 1
        out = f"{base}_{k}"
    taken.add(out)
    return out


# -- export ---------------------------------------------------------------------------------------


@dataclass
class Exported:
    """A NIR graph made from ours: ``graph`` (``nir.NIRGraph``), what had to be approximated
    (empty: exact), notes (boundaries such as input encoders), and our node names by NIR name."""

    graph: object
    approximations: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    names: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)  # NIR input name -> our encoder or input node (None: entry point)


class _Export:
    """Builds one export; refusals collect in ``problems`` (one per node or edge)."""

    def __init__(self, graph: Graph, dt: float, approximate: bool):
        import nir

        self.nir, self.graph, self.approximate = nir, graph, approximate
        self.step = Stepping(dt)
        self.dt = dt
        self.taken: set = set()
        self.name: dict = {}  # our node -> NIR node name
        self.nodes: dict = {}
        self.edges: list = []
        self.problems: list = []
        self.approximations: list = []
        self.notes: list = []
        self.inputs: dict = {}
        self.bias_done: set = set()
        self.kind: dict = {}  # our node -> "spikes" | "value" (what it sends)

    def refuse(self, where: str, what: str, instead: str) -> None:
        self.problems.append(f"{where}: {what}; {instead}")

    def approx(self, where: str, what: str) -> bool:
        """Record an approximation (with --approximate) or refuse; True when it may proceed."""
        if self.approximate:
            self.approximations.append(f"{where}: {what}")
            return True
        self.refuse(where, what, "NIR cannot say this: pass --approximate to export the closest form")
        return False

    # nodes -------------------------------------------------------------------------------------
    def sources(self) -> None:
        g = self.graph
        for name, node in g.nodes.items():
            where = f"node {name!r} ({type(node).__name__})"
            if isinstance(node, Input):
                feeds = g.outgoing(name)
                if feeds and all(isinstance(g.nodes[e.target], (PoissonEncoder, BernoulliEncoder, RegularEncoder))
                                 for e in feeds):
                    continue  # its encoders become the file's inputs
                self.add(name, self.nir.Input(np.array([node.size])))
                self.kind[name] = "spikes" if node.kind == "spikes" else "value"
                self.inputs[self.name[name]] = name
            elif isinstance(node, (PoissonEncoder, BernoulliEncoder, RegularEncoder)):
                into = g.incoming(name)
                if len(into) == 1 and isinstance(g.nodes[into[0].source], Input):
                    self.add(name, self.nir.Input(np.array([node.size])))
                    self.kind[name] = "spikes"
                    self.inputs[self.name[name]] = name
                    self.notes.append(f"{where}: NIR has no input encoders; the file starts at its spikes (input "
                                      f"{self.name[name]!r}): supply them, e.g. with `export --inputs`")
                else:
                    self.refuse(where, "an encoder fed by computed values", "no NIR counterpart")
            elif isinstance(node, Signal):
                self.add(name, self.nir.Input(np.array([node.size])))
                self.kind[name] = "value"
                self.inputs[self.name[name]] = name
                self.notes.append(f"{where}: a tabulated host signal becomes the file's input {self.name[name]!r} "
                                  "(values per step; `export --inputs` writes them)")
            elif isinstance(node, (AnalogEncoder, Host)):
                self.refuse(where, "a host-side node", "NIR graphs hold neurons and weights only: keep host "
                            "computation outside the exported network")

    def neurons(self) -> None:
        for name, node in self.graph.nodes.items():
            where = f"node {name!r} ({type(node).__name__})"
            if isinstance(node, LIF):
                self.lif(name, node, where)
            elif isinstance(node, CubaLIF):
                self.cuba(name, node, where)
            elif isinstance(node, IF):
                self.integrate_and_fire(name, node, where)
            elif isinstance(node, LI):
                self.leaky(name, node, where)
            elif isinstance(node, Integrator):
                self.refuse(where, "a spike-count read-out (Integrator)", "the NIR exporter does not map it to NIR's "
                            "I node yet: export the model with spiking.readout: end")

    def common(self, node, where: str) -> dict:
        meta = {}
        if getattr(node, "reset_mode", "zero") == "subtract" and self.approx(
                where, "reset by subtraction (NIR resets to v_reset): exported with node metadata reset: subtract, "
                       "which neuromorph reads and other tools may not"):
            meta["reset"] = "subtract"
        if getattr(node, "v0", None) is not None and np.any(node.v0 != 0):
            self.approx(where, "initial voltages dropped (NIR neurons start at v = 0)")
        return meta

    def lif(self, name, node, where) -> None:
        if node.encoders is not None and not self.approximate:
            self.refuse(where, "a population-coded ensemble (encoders and gains)", "--approximate exports its "
                        "neurons with the decoded projections as full weight matrices")
            return
        if node.tau_ref > 0:
            self.approx(where, f"refractory period {node.tau_ref * 1e3:g} ms dropped (NIR's LIF has none)")
        if node.v_min is not None:
            self.approx(where, f"voltage floor v_min = {node.v_min:g} dropped (NIR's LIF has none)")
        meta = self.common(node, where)
        n = node.size
        tau = self.step.nir_tau(node.tau_rc)
        self.add(name, self.nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / self.dt), v_leak=np.zeros(n),
                                    v_threshold=np.full(n, node.threshold), v_reset=np.full(n, node.reset),
                                    metadata=meta))
        self.kind[name] = "spikes"

    def cuba(self, name, node, where) -> None:
        meta = self.common(node, where)
        n = node.size
        ts, tm = self.step.nir_tau(node.tau_syn), self.step.nir_tau(node.tau_rc)
        self.add(name, self.nir.CubaLIF(tau_syn=np.full(n, ts), tau_mem=np.full(n, tm), r=np.full(n, tm / self.dt),
                                        v_leak=np.broadcast_to(node.bias, (n,)).astype(float),
                                        v_threshold=np.full(n, node.threshold), v_reset=np.full(n, node.reset),
                                        w_in=np.full(n, ts / self.dt), metadata=meta))
        self.kind[name] = "spikes"

    def integrate_and_fire(self, name, node, where) -> None:
        if node.tau_ref > 0:
            self.approx(where, f"refractory period {node.tau_ref * 1e3:g} ms dropped (NIR's IF has none)")
        if node.v_min is not None or node.v_max is not None:
            self.approx(where, "voltage bounds dropped (NIR's IF has none)")
        meta = self.common(node, where)
        n = node.size
        self.add(name, self.nir.IF(r=np.full(n, 1.0 / self.dt), v_threshold=np.full(n, node.threshold),
                                   v_reset=np.full(n, node.reset), metadata=meta))
        self.kind[name] = "spikes"

    def leaky(self, name, node, where) -> None:
        n = node.size
        if node.tau == 0:  # a sum of its inputs plus its bias: an identity junction
            self.add(name, self.nir.Scale(np.ones(n)))
        else:
            tau = self.step.nir_tau(node.tau)
            self.add(name, self.nir.LI(tau=np.full(n, tau), r=np.full(n, tau / self.dt),
                                       v_leak=np.broadcast_to(node.bias, (n,)).astype(float)))
        self.kind[name] = "value"

    def add(self, ours: str, nir_node) -> str:
        key = _safe(ours, self.taken)
        self.name[ours] = key
        self.nodes[key] = nir_node
        return key

    # edges -------------------------------------------------------------------------------------
    def scale(self, target: str, spikes: bool) -> float:
        """NIR weight per unit of our weight into ``target`` (what our step does to one unit)."""
        node, dt = self.graph.nodes[target], self.dt
        per_unit = 1.0 / dt if spikes else 1.0  # a spike is the pulse 1/dt over its step
        if isinstance(node, LIF):  # v += (dt/tau) r I = I (r = tau/dt): I = g w x
            return -math.expm1(-dt / node.tau_rc) * per_unit
        if isinstance(node, CubaLIF):  # I_nir = g_m I: x_nir = g_m g_s x
            return -math.expm1(-dt / node.tau_rc) * -math.expm1(-dt / node.tau_syn) * per_unit
        if isinstance(node, IF):  # v += dt r I = I: I = dt w x / tau
            return dt / node.tau * per_unit
        if isinstance(node, LI) and node.tau > 0:
            return -math.expm1(-dt / node.tau) * per_unit
        return per_unit  # a junction (LI with tau = 0) passes W x per step; a spike is 1/dt of it

    def bias_of(self, target: str) -> np.ndarray | None:
        """The target's constant drive as the bias of its first incoming Affine (once)."""
        if target in self.bias_done:
            return None
        self.bias_done.add(target)
        node = self.graph.nodes[target]
        n = node.size
        if isinstance(node, LIF):
            return np.broadcast_to(node.bias, (n,)) * -math.expm1(-self.dt / node.tau_rc)
        if isinstance(node, CubaLIF):
            return (np.broadcast_to(node.syn_bias, (n,)) * -math.expm1(-self.dt / node.tau_rc)
                    * -math.expm1(-self.dt / node.tau_syn))
        if isinstance(node, IF):
            return np.broadcast_to(node.bias, (n,)) * self.dt / node.tau
        if isinstance(node, LI) and node.tau == 0:
            return np.broadcast_to(node.bias, (n,)).astype(float)
        return None

    def matrix(self, edge) -> np.ndarray | None:
        g = self.graph
        pre, post = g.nodes[edge.source], g.nodes[edge.target]
        if edge.history is not None and not self.approx(f"edge {edge.name!r}", "the synapse's history (a run "
                                                        "already under way at t = 0) dropped: NIR nodes start at rest"):
            return None
        if isinstance(edge, Connection) and edge.learning is not None and not self.approx(
                f"edge {edge.name!r}", f"its learning rule ({edge.learning}) dropped: NIR has no plasticity; the "
                "weights are exported as they are"):
            return None
        if isinstance(edge, Decoded):
            if not self.approx(f"edge {edge.name!r}", "a decoded (NEF) projection exported as its full weight matrix"):
                return None
            T = edge.full_transform()
            if isinstance(post, LIF):
                return (np.asarray(post.gain)[:, None] * np.asarray(post.encoders)) @ T @ edge.decoders.T
            return T @ edge.decoders.T
        if edge.into == "ensemble":
            if not self.approx(f"edge {edge.name!r}", "an input into an ensemble's represented space exported as "
                                                       "weights onto its neurons"):
                return None
            return (post.gain[:, None] * post.encoders) @ edge.matrix(post.dimensions, pre.size)
        return edge.matrix(post.size, pre.size)

    def connect(self) -> None:
        for edge in self.graph.edges:
            if edge.source not in self.name or edge.target not in self.name:
                continue  # a refused or absorbed node (encoder inputs) already reported
            W = self.matrix(edge)
            if W is None:
                continue
            spikes = self.kind[edge.source] == "spikes"
            source = self.name[edge.source]
            synapse = edge.synapse
            if synapse is not None:
                if not self.approx(f"edge {edge.name!r}", f"synapse {synapse} exported as first-order LI stages "
                                                           "before the target (NIR filters inside CubaLIF and LI "
                                                           "nodes; each stage steps on its own)"):
                    continue
                source = self.stages(edge, W, spikes)
                W, spikes = np.eye(W.shape[0]), False
            self.affine(source, edge.target, W * self.scale(edge.target, spikes))

    def stages(self, edge, W: np.ndarray, spikes: bool) -> str:
        """LI stages for a filtered edge (Lowpass: one, Alpha and DoubleExp: two); returns the last
        stage's name."""
        taus = stages(edge.synapse)
        n = W.shape[0]
        weights, source = W, self.name[edge.source]
        for k, tau in enumerate(taus):
            tau_nir = self.step.nir_tau(tau)
            stage = _safe(f"{edge.source}_{edge.target}_syn{k}", self.taken)
            self.nodes[stage] = self.nir.LI(tau=np.full(n, tau_nir), r=np.full(n, tau_nir / self.dt),
                                            v_leak=np.zeros(n))
            gain = -math.expm1(-self.dt / tau) * (1.0 / self.dt if (spikes and k == 0) else 1.0)
            link = _safe(f"{source}_to_{stage}", self.taken)
            self.nodes[link] = self.nir.Linear(weights * gain)
            self.edges += [(source, link), (link, stage)]
            weights, source = np.eye(n), stage
        return source

    def affine(self, source: str, target: str, W: np.ndarray) -> None:
        bias = self.bias_of(target)
        key = _safe(f"{source}_to_{self.name[target]}", self.taken)
        self.nodes[key] = self.nir.Affine(W, bias) if bias is not None else self.nir.Linear(W)
        self.edges += [(source, key), (key, self.name[target])]

    def loose_biases(self) -> None:
        """Neurons with no incoming edge keep their drive as v_leak."""
        for name, node in self.graph.nodes.items():
            if name in self.bias_done or name not in self.name or not isinstance(node, (LIF, IF)):
                continue
            bias = self.bias_of(name)
            if bias is not None and np.any(bias != 0):
                nir_node = self.nodes[self.name[name]]
                if isinstance(node, IF):
                    self.approx(f"node {name!r} (IF)", "a constant drive with no input edge (NIR's IF has no v_leak)")
                else:
                    nir_node.v_leak = np.broadcast_to(node.bias, (node.size,)).astype(float)

    def entry_point(self) -> None:
        """NIR graphs start at an Input: a network driven only by its biases gets a one-value input
        with zero weights into its first neurons (the same network; readers can infer types)."""
        first = next((self.name[k] for k in self.graph.neurons() if k in self.name), None)
        if self.inputs or first is None:
            return
        key, link = _safe("input", self.taken), _safe("input_to_" + first, self.taken)
        size = self.graph.nodes[self.names_back(first)].size
        self.nodes[key] = self.nir.Input(np.array([1]))
        self.nodes[link] = self.nir.Linear(np.zeros((size, 1)))
        self.edges += [(key, link), (link, first)]
        self.inputs[key] = None
        self.notes.append(f"the network has no inputs (its biases drive it): input {key!r} (one value, zero "
                          "weights) gives NIR readers an entry point")

    def names_back(self, key: str) -> str:
        return next(ours for ours, k in self.name.items() if k == key)

    def outputs(self) -> None:
        for key, probe in self.graph.probes.items():
            if probe.node not in self.name:
                continue
            if probe.variable == "voltage":
                self.notes.append(f"probe {key!r}: NIR outputs carry a node's output, not its voltage; exported "
                                  f"as the output of {probe.node!r}")
            out = _safe(key, self.taken)
            self.nodes[out] = self.nir.Output(np.array([self.graph.nodes[probe.node].size]))
            self.edges.append((self.name[probe.node], out))


def export(graph: Graph, dt: float | None = None, approximate: bool = False) -> Exported:
    """Our network graph (one copy) as a NIR graph read by the per-step convention at ``dt`` (s;
    default: the graph's step): exact when every node and edge has a NIR counterpart; otherwise
    refused with one line per node or edge, or, with ``approximate``, the closest form and a line
    per approximation."""
    import nir

    dt = graph.dt if dt is None else dt
    if graph.copies != 1:
        raise NirError("export one copy of a network (copies = 1)")
    job = _Export(graph, dt, approximate)
    job.sources()
    job.neurons()
    job.connect()
    job.loose_biases()
    job.outputs()
    job.entry_point()
    if job.problems:
        raise NirError("cannot export to NIR:\n  " + "\n  ".join(job.problems))
    record = {"dt": dt, "simulation_dt": graph.dt, "integration": "euler", "spikes": "per-step",
              "substitutions": [s.as_dict() for s in graph.substitutions], "approximations": job.approximations,
              "notes": job.notes, "names": {v: k for k, v in job.name.items()}}
    meta = {"neuromorph.dt": float(dt), "neuromorph.integration": "euler", "neuromorph.record": json.dumps(record)}
    try:
        out = nir.NIRGraph(nodes=job.nodes, edges=job.edges, metadata=meta)
    except (ValueError, AssertionError) as e:
        raise NirError(f"the exported graph does not type-check in nir: {e}") from None
    return Exported(out, job.approximations, job.notes, {v: k for k, v in job.name.items()}, job.inputs)


def write(exported: Exported, path) -> None:
    """Write the NIR file atomically (nothing is left behind on failure)."""
    import io

    import nir

    from ..files import write_bytes_atomic

    buf = io.BytesIO()
    nir.write(buf, exported.graph)
    write_bytes_atomic(Path(path), buf.getvalue())


# -- import ---------------------------------------------------------------------------------------


@dataclass
class Imported:
    """A NIR file as our graph: ``graph`` (discrete time, ``meta['discrete']``), its input nodes
    (name -> size), and per output node what it records (``spikes.<out>``, ``v.<out>``)."""

    graph: Graph
    inputs: dict
    outputs: dict
    stepping: Stepping
    metadata: dict


def _nir_types(path: Path) -> None:
    """Every node type in the file is one nir knows (its own check fails with a bare assertion)."""
    import h5py
    import nir.ir as ir

    known = set(ir.__all__) if hasattr(ir, "__all__") else set(dir(ir))

    def walk(group, prefix):
        for name in group.get("nodes", {}):
            node = group["nodes"][name]
            kind = node["type"][()]
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            if kind not in known and kind != "NIRGraph":
                raise NirError(f"{path}: node {prefix + name!r} has unknown type {kind!r}")
            if kind == "NIRGraph":
                walk(node, f"{prefix}{name}.")

    with h5py.File(path, "r") as f:
        if "node" not in f:
            raise NirError(f"{path}: not a NIR file (no 'node' group)")
        walk(f["node"], "")


def read_graph(path):
    """The ``nir.NIRGraph`` in ``path``, or a :class:`NirError` naming the file and what is wrong."""
    import nir

    path = Path(path)
    if not path.is_file():
        raise NirError(f"{path}: no such file")
    try:
        _nir_types(path)
        graph = nir.read(str(path), type_check=False)  # shapes checked below, against the weights
    except NirError:
        raise
    except OSError as e:
        raise NirError(f"{path}: not a readable NIR (HDF5) file ({e})") from None
    except (KeyError, TypeError, ValueError, AssertionError) as e:
        raise NirError(f"{path}: not a valid NIR graph ({type(e).__name__}: {e or 'assertion failed'})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise NirError(f"{path}: holds a single {type(graph).__name__} node, not a graph")
    return graph


def _flatten(graph, prefix: str = "") -> tuple[dict, list]:
    """Nodes and edges with nested subgraphs inlined (their nodes named ``sub.node``; the
    subgraph's Input and Output become pass-throughs)."""
    import nir

    nodes, edges = {}, []
    entry, exit_ = {}, {}
    for name, node in graph.nodes.items():
        key = prefix + name
        if isinstance(node, nir.NIRGraph):
            inner, inner_edges = _flatten(node, key + ".")
            ins = [k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise NirError(f"subgraph {key!r}: has {len(ins)} inputs and {len(outs)} outputs; neuromorph inlines "
                               "subgraphs with one of each")
            for k in (ins[0], outs[0]):
                inner[f"{key}.{k}"] = ("pass", inner[f"{key}.{k}"][1])
            nodes.update(inner)
            edges += inner_edges
            entry[key], exit_[key] = f"{key}.{ins[0]}", f"{key}.{outs[0]}"
        else:
            nodes[key] = (type(node).__name__, node)
    for a, b in graph.edges:
        a, b = prefix + a, prefix + b
        edges.append((exit_.get(a, a), entry.get(b, b)))
    return nodes, edges


def _check_node(where: str, kind: str, node) -> None:
    """Parameters finite and of one shape; time constants and r positive where NIR needs them."""
    params = {k: np.asarray(v, dtype=float) for k, v in node.to_dict().items()
              if k not in ("type", "metadata", "shape") and isinstance(v, (np.ndarray, float, int))}
    for key, value in params.items():
        if not np.all(np.isfinite(value)):
            raise NirError(f"{where}: {key} has non-finite values")
    for key in ("tau", "tau_syn", "tau_mem"):
        if key in params and np.any(params[key] <= 0):
            raise NirError(f"{where}: {key} must be > 0 s (got {float(np.min(params[key])):g})")
    if kind in NEURONS:
        shapes = {k: v.shape for k, v in params.items()}
        if len(set(shapes.values())) > 1:
            raise NirError(f"{where}: parameters have different shapes {shapes}")
        if next(iter(shapes.values())) == () or len(next(iter(shapes.values()))) != 1:
            raise NirError(f"{where}: parameters must be 1-d arrays, one value per neuron (got {shapes})")
    if kind in ("LIF", "CubaLIF", "IF") and np.any(params["v_threshold"] <= params.get("v_reset", 0.0)):
        raise NirError(f"{where}: v_threshold must be above v_reset")


def _size(kind: str, node) -> int:
    if kind in ("Input", "Output"):
        shape = node.input_type.get("input") if kind == "Input" else node.output_type.get("output")
        shape = np.asarray(shape if shape is not None else [], dtype=int).ravel()
        return int(np.prod(shape)) if shape.size else 0
    if kind in ("Affine", "Linear"):
        return int(np.asarray(node.weight).shape[0])
    if kind == "Scale":
        return int(np.asarray(node.scale).size)
    return int(np.asarray(node.v_threshold if hasattr(node, "v_threshold") else node.tau).size)


class _Import:
    def __init__(self, path, graph, stepping: Stepping):
        self.path, self.step = path, stepping
        self.nodes, self.edges = _flatten(graph)
        self.ours: dict = {}
        self.out_edges: list = []
        self.probes: dict = {}
        self.inputs: dict = {}
        self.outputs: dict = {}
        for name, (kind, node) in self.nodes.items():
            where = f"{path}: node {name!r} ({kind})"
            if kind in UNSUPPORTED or (kind not in NEURONS + LINEAR + ("Input", "Output", "pass")):
                raise NirError(f"{where}: no neuromorph backend runs this node type; brian2-spiking, nengo and loihi "
                               f"take {', '.join(NEURONS + LINEAR)}, Input, Output and nested graphs")
            if kind in NEURONS + LINEAR:
                _check_node(where, kind, node)
        for a, b in self.edges:
            for end in (a, b):
                if end not in self.nodes:
                    raise NirError(f"{path}: edge ({a!r}, {b!r}) names a node {end!r} that is not in the graph")

    def children(self, name: str) -> list:
        return [b for a, b in self.edges if a == name]

    def size_of(self, name: str) -> int:
        """A node's width; neurons written with scalar parameters (snnTorch does) take the width
        of the projection or node that feeds them."""
        kind, node = self.nodes[name]
        size = _size(kind, node)
        if kind not in NEURONS or size != 1:
            return size
        for parent in (a for a, b in self.edges if b == name):
            p_kind, p_node = self.nodes[parent]
            if p_kind in ("Affine", "Linear", "Input") or (p_kind in NEURONS and _size(p_kind, p_node) > 1):
                return _size(p_kind, p_node)
        return size

    def param(self, name: str, values) -> np.ndarray:
        """A neuron parameter as one value per neuron."""
        return np.broadcast_to(np.asarray(values, dtype=float).ravel(), (self.size_of(name),)).copy()

    def linear_map(self, name: str, x_size: int, seen=()) -> list:
        """[(target, M)]: where a vector leaving ``name`` arrives (through linear nodes) and how."""
        out = []
        for child in self.children(name):
            kind, node = self.nodes[child]
            if child in seen:
                raise NirError(f"{self.path}: node {child!r} is in a cycle of linear nodes with no neuron")
            if kind in ("Affine", "Linear"):
                W = np.asarray(node.weight, dtype=float)
                if W.ndim != 2 or W.shape[1] != x_size:
                    raise NirError(f"{self.path}: node {child!r} ({kind}): weight has shape {W.shape}; its input has "
                                   f"{x_size} values")
                out += [(t, M @ W) for t, M in self.linear_map(child, W.shape[0], seen + (child,))]
            elif kind == "Scale":
                s = np.asarray(node.scale, dtype=float).ravel()
                if s.size != x_size:
                    raise NirError(f"{self.path}: node {child!r} (Scale): {s.size} values for an input of {x_size}")
                out += [(t, M * s[None, :]) for t, M in self.linear_map(child, x_size, seen + (child,))]
            elif kind == "pass":
                out += self.linear_map(child, x_size, seen + (child,))
            else:
                size = self.size_of(child)
                if size != x_size:
                    raise NirError(f"{self.path}: node {child!r} ({kind}) has {size} inputs; {name!r} sends {x_size}")
                out.append((child, np.eye(x_size)))
        return out

    def biases(self) -> dict:
        """target -> the sum of the Affine biases that reach it (through later linear nodes)."""
        total: dict = {}
        for name, (kind, node) in self.nodes.items():
            if kind != "Affine":
                continue
            b = np.asarray(node.bias, dtype=float).ravel()
            W = np.asarray(node.weight)
            if b.size not in (0, W.shape[0]):
                raise NirError(f"{self.path}: node {name!r} (Affine): bias has {b.size} values for {W.shape[0]} "
                               "outputs")
            if not np.all(np.isfinite(b)):
                raise NirError(f"{self.path}: node {name!r} (Affine): bias has non-finite values")
            if b.size == 0 or not np.any(b):
                continue
            for target, M in self.linear_map(name, b.size):
                total[target] = total.get(target, 0.0) + M @ b
        return total

    def build(self) -> Graph:
        biases = self.biases()
        dt = self.step.dt
        nodes: dict = {}
        gains: dict = {}  # target -> (gain of a spike edge, of a value edge)
        for name, (kind, node) in self.nodes.items():
            where = f"{self.path}: node {name!r} ({kind})"
            meta = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in (node.metadata or {}).items()}
            mode: Literal["zero", "subtract"] = "subtract" if meta.get("reset", "zero") == "subtract" else "zero"
            b = biases.get(name)
            if kind == "Input":
                nodes[name] = Input(_size(kind, node), kind="spikes")
                self.inputs[name] = _size(kind, node)
            elif kind == "LIF":
                r = self.param(name, node.r)
                bias = self.param(name, node.v_leak) + (0 if b is None else r * b)
                nodes[name] = LIF(r.size, tau_rc=self.step.ours(node.tau, where), tau_ref=0.0,
                                  threshold=_one(node.v_threshold, where, "v_threshold"),
                                  reset=_one(node.v_reset, where, "v_reset"), reset_mode=mode, bias=bias)
                gains[name] = (r * dt, r)
            elif kind == "CubaLIF":
                r, w_in = self.param(name, node.r), self.param(name, node.w_in)
                nodes[name] = CubaLIF(r.size, tau_syn=self.step.ours(node.tau_syn, where + " tau_syn"),
                                      tau_rc=self.step.ours(node.tau_mem, where + " tau_mem"),
                                      threshold=_one(node.v_threshold, where, "v_threshold"),
                                      reset=_one(node.v_reset, where, "v_reset"), reset_mode=mode,
                                      bias=self.param(name, node.v_leak),
                                      syn_bias=0.0 if b is None else r * w_in * b)
                gains[name] = (r * w_in * dt, r * w_in)
            elif kind == "IF":
                r = self.param(name, node.r)
                nodes[name] = IF(r.size, tau=1.0, tau_ref=0.0, threshold=_one(node.v_threshold, where, "v_threshold"),
                                 reset=_one(node.v_reset, where, "v_reset"), reset_mode=mode,
                                 bias=0.0 if b is None else r * b)
                gains[name] = (r * dt, r)
            elif kind == "LI":
                r = self.param(name, node.r)
                bias = self.param(name, node.v_leak) + (0 if b is None else r * b)
                nodes[name] = LI(r.size, tau=self.step.ours(node.tau, where), bias=bias)
                gains[name] = (r * dt, r)
        # an output fed by one neuron records it; one fed through linear nodes gets a read-out,
        # value = W x + b per step
        readouts = set()
        for name, (kind, node) in self.nodes.items():
            if kind != "Output":
                continue
            feeders = [a for a, c in self.edges if c == name]
            if len(feeders) == 1 and feeders[0] in nodes:
                self.output_of(name, feeders[0], nodes)
                continue
            size = _size(kind, node)
            read = f"{name}.value"
            nodes[read] = LI(size, tau=0.0, bias=biases.get(name, 0.0))
            gains[read] = (np.full(size, dt), np.ones(size))
            readouts.add(name)
            self.output_of(name, read, nodes)
        edges = []
        for source in [k for k in nodes if k in self.nodes]:
            spikes = nodes[source].spiking
            for target, M in self.linear_map(source, nodes[source].size):
                if self.nodes[target][0] == "Output":
                    if target not in readouts:
                        continue  # recorded directly
                    target = f"{target}.value"
                g_spike, g_value = gains[target]
                edges.append(Connection(source, target, np.asarray(g_spike if spikes else g_value)[:, None] * M))
        return Graph(Path(self.path).stem, nodes, tuple(edges), self.probes, dt=dt,
                     meta={"discrete": True, "nir": {"file": str(self.path), "dt": dt,
                                                     "integration": self.step.integration}},
                     notes=(f"read from NIR ({self.path}) by the per-step convention: dt = {dt:g} s, "
                            f"{self.step.integration} integration",))

    def output_of(self, out: str, node: str, nodes: dict) -> None:
        target = nodes[node]
        self.outputs[out] = {}
        if target.spiking:
            self.probes[f"spikes.{out}"] = Probe(node, "spikes")
            self.outputs[out]["spikes"] = f"spikes.{out}"
        if isinstance(target, (LIF, IF, CubaLIF)):
            self.probes[f"v.{out}"] = Probe(node, "voltage")
            self.outputs[out]["v"] = f"v.{out}"
        elif isinstance(target, LI):
            self.probes[f"v.{out}"] = Probe(node, "value")
            self.outputs[out]["v"] = f"v.{out}"


def _one(values, where: str, key: str) -> float:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size and np.ptp(arr) > 1e-12 * max(1.0, float(np.max(np.abs(arr)))):
        raise NirError(f"{where}: {key} differs between neurons; neuromorph's populations share one value")
    return float(arr[0]) if arr.size else 0.0


def read(path, dt: float | None = None, integration: str | None = None) -> Imported:
    """A NIR file as our (discrete-time) network graph, stepped by the per-step convention at
    ``dt`` (s; default: the file's ``neuromorph.dt``, else :data:`DEFAULT_DT`) with
    ``integration`` (default: the file's, else ``euler``)."""
    graph = read_graph(path)
    meta = dict(graph.metadata or {})
    if dt is None:
        dt = float(meta.get("neuromorph.dt", DEFAULT_DT))
    if integration is None:
        found = meta.get("neuromorph.integration", "euler")
        integration = found.decode() if isinstance(found, bytes) else str(found)
    if integration not in INTEGRATIONS:
        raise NirError(f"integration must be one of {', '.join(INTEGRATIONS)} (got {integration!r})")
    if not (dt > 0 and math.isfinite(dt)):
        raise NirError(f"dt must be a positive number of seconds (got {dt!r})")
    job = _Import(Path(path), graph, Stepping(dt, integration))
    ours = job.build()
    if not job.inputs:
        raise NirError(f"{path}: the graph has no Input node to drive it")
    if not job.outputs:
        raise NirError(f"{path}: the graph has no Output node to record")
    return Imported(ours, job.inputs, job.outputs, job.step,
                    {k: (v.decode() if isinstance(v, bytes) else v) for k, v in meta.items()})


# -- input and result files -----------------------------------------------------------------------


def read_inputs(path, imported: Imported) -> tuple[dict, int]:
    """``IN.npz``: ``dt`` (s, the step the arrays are sampled at; must be the graph's) and one array
    per NIR input node, named as the node, shape (steps, n) of spike counts per step. Keys
    starting with ``meta.`` are carried along (labels, presentation lengths). Returns (arrays, steps)."""
    path = Path(path)
    if not path.is_file():
        raise NirError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise NirError(f"{path}: not a readable .npz file ({e})") from None
    if "dt" not in data:
        raise NirError(f"{path}: no 'dt' (the step of the arrays, s)")
    dt = float(np.asarray(data.pop("dt")))
    if abs(dt - imported.stepping.dt) > 1e-12 * imported.stepping.dt:
        raise NirError(f"{path}: dt = {dt:g} s, but the graph is read at dt = {imported.stepping.dt:g} s "
                       "(pass --nir-dt to read it at the inputs' step)")
    arrays, steps = {}, None
    for key, value in data.items():
        if key.startswith("meta."):
            continue
        if key not in imported.inputs:
            raise NirError(f"{path}: array {key!r} names no input node (inputs: {', '.join(imported.inputs)})")
        size = imported.inputs[key]
        value = np.asarray(value, dtype=float)
        if value.ndim != 2 or value.shape[1] != size:
            raise NirError(f"{path}: array {key!r} has shape {value.shape}; expected (steps, {size})")
        if not np.all(np.isfinite(value)) or np.any(value < 0):
            raise NirError(f"{path}: array {key!r} must hold spike counts (finite, >= 0)")
        if steps is not None and value.shape[0] != steps:
            raise NirError(f"{path}: array {key!r} has {value.shape[0]} steps; the others {steps}")
        steps = value.shape[0]
        arrays[key] = value
    missing = [k for k in imported.inputs if k not in arrays]
    if missing:
        raise NirError(f"{path}: no array for input node(s) {', '.join(missing)}")
    return arrays, int(steps or 0)


def encode(node, x: np.ndarray, dt: float, rng: np.random.Generator) -> np.ndarray:
    """Spike counts per step (steps, n) an input encoder makes of values ``x`` (steps, n) held
    over steps of ``dt`` (s): Poisson counts, Bernoulli (at most one per step) or regular
    (phase accumulation), as :mod:`neuromorph.graph.nodes` defines them."""
    rate = node.max_rate * np.clip(x, 0.0, None)
    if isinstance(node, PoissonEncoder):
        return rng.poisson(rate * dt).astype(float)
    if isinstance(node, BernoulliEncoder):
        return (rng.uniform(size=x.shape) < np.minimum(rate * dt, 1.0)).astype(float)
    phase = np.cumsum(rate * dt, axis=0) + np.broadcast_to(node.phase, x.shape[1:])
    return np.diff(np.floor(phase), axis=0, prepend=np.floor(np.broadcast_to(node.phase, (1,) + x.shape[1:])))


def export_inputs(graph: Graph, exported: Exported, run: dict, seed: int, dt: float) -> dict:
    """IN.npz arrays for the exported file's inputs from a run's Input values (``run``: a
    family's ``graph_run``, lanes laid end to end): encoders' spikes drawn with ``seed``, spike
    inputs as given; ``dt`` (s) the file's step."""
    from ..seeds import rng_for

    ratio = max(1, int(round((run["input_dt"] or dt) / dt)))
    out: dict = {"dt": np.asarray(dt)}
    for key, ours in exported.inputs.items():
        if ours is None:  # the entry point of a network with no inputs: zeros
            out[key] = np.zeros((int(round(run["duration"] / dt)), 1))
            continue
        node = graph.nodes[ours]
        if isinstance(node, Signal):  # its table, sampled at the file's step
            rows = np.minimum((np.arange(int(round(run["duration"] / dt))) * dt / node.dt + 1e-9).astype(int),
                              len(node.values) - 1)
            out[key] = np.asarray(node.values, dtype=float)[rows].reshape(len(rows), -1)[:, -node.size:]
            continue
        source = graph.incoming(ours)[0].source if not isinstance(node, Input) else ours
        values = np.asarray(run["inputs"][source], dtype=float)
        if values.ndim == 3:  # (steps, lanes, n): the lanes one after another
            values = values.transpose(1, 0, 2).reshape(-1, values.shape[-1])
        held = np.repeat(values, ratio, axis=0)
        out[key] = held if isinstance(node, Input) else encode(node, held, dt, rng_for(seed, "nir-inputs", ours))
    return out
