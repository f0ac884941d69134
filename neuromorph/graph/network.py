"""The network graph: named nodes, edges between them, probes, and what the compilers changed.

A graph describes ``copies`` independent copies of one network that share every parameter (the
lanes of a batch); sizes are per copy, and per-copy arrays (initial voltages, signals, inputs)
carry a copies axis. The copies of a learning edge share its weights: every copy's change applies
to all (targets without ``Traits.shared_learning`` run one copy). Recurrent edges are allowed.
Graphs are immutable: passes return new ones.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .edges import Connection, Decoded, Dendritic
from .nodes import IF, LI, LIF, CubaLIF, Host, GraphError, Input, Node, Signal


@dataclass(frozen=True)
class Substitution:
    """A change a compiler made because a target cannot do what the model says.

    ``id`` names the limit (stable: tests and reports use it); ``original`` and ``replacement``
    say what changed; ``why`` gives the limit and why the replacement keeps the meaning;
    ``detail`` holds numbers (JSON types)."""

    id: str
    original: str
    replacement: str
    why: str
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out: dict = {"id": self.id, "original": self.original, "replacement": self.replacement, "why": self.why}
        if self.detail:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Substitution":
        return cls(data["id"], data["original"], data["replacement"], data["why"], dict(data.get("detail", {})))

    def __str__(self) -> str:
        return f"[{self.id}] {self.original} -> {self.replacement} ({self.why})"


#: Nodes whose input is a current into neurons.
NEURONS = (LIF,)


@dataclass(frozen=True)
class Graph:
    """A spiking network: nodes by name, edges, probes, the simulation step ``dt`` (s) it was
    made for, ``copies`` (lanes), and the record of what compilers substituted.

    ``meta``: plain-data hints for targets (e.g. ``decode_tau``, the filter NengoLoihi puts on
    decoded on-chip connections)."""

    name: str
    nodes: dict
    edges: tuple = ()
    probes: dict = field(default_factory=dict)
    dt: float = 0.001
    copies: int = 1
    substitutions: tuple = ()
    notes: tuple = ()
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "edges", tuple(self.edges))
        object.__setattr__(self, "substitutions", tuple(self.substitutions))
        object.__setattr__(self, "notes", tuple(self.notes))
        self.check()

    # -- checks ----------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`GraphError` naming the first node, edge or probe that is not well formed."""
        if not (isinstance(self.copies, int) and self.copies >= 1):
            raise GraphError(f"graph {self.name!r}: copies must be a positive integer (got {self.copies!r})")
        if not (self.dt > 0):
            raise GraphError(f"graph {self.name!r}: dt must be > 0 s (got {self.dt!r})")
        for name, node in self.nodes.items():
            if not isinstance(node, Node):
                raise GraphError(f"node {name!r}: not a graph primitive ({type(node).__name__})")
            node.check(name, self.copies)
        for edge in self.edges:
            self._check_edge(edge)
        for name, probe in self.probes.items():
            probe.check(name, self.nodes)

    def _check_edge(self, edge) -> None:
        for end in (edge.source, edge.target):
            if end not in self.nodes:
                from ..errors import unknown_name

                raise GraphError(f"edge {edge.name!r}: " + unknown_name("node", end, sorted(self.nodes)))
        pre, post = self.nodes[edge.source], self.nodes[edge.target]
        if isinstance(post, (Input, Signal)):
            raise GraphError(f"edge {edge.name!r}: {type(post).__name__} node {edge.target!r} takes no input")
        if isinstance(edge, Decoded):
            if not isinstance(pre, LIF):
                raise GraphError(f"edge {edge.name!r}: a decoded edge starts at a LIF ensemble "
                                 f"(got {type(pre).__name__})")
            if isinstance(post, LIF):
                if post.encoders is None:
                    raise GraphError(f"edge {edge.name!r}: the target {edge.target!r} has no encoders to decode into")
                d_post = post.dimensions
            elif isinstance(post, (LI, Host)):
                d_post = post.size
            else:
                raise GraphError(f"edge {edge.name!r}: cannot decode into a {type(post).__name__} node")
            edge.check(pre.size, d_post)
        elif isinstance(edge, Connection):
            if isinstance(post, CubaLIF) and edge.synapse is not None:
                raise GraphError(f"edge {edge.name!r}: a CubaLIF filters its input itself (tau_syn); edges into it "
                                 "take no synapse")
            width = post.size
            if edge.into == "ensemble":
                if not (isinstance(post, LIF) and post.encoders is not None):
                    raise GraphError(f"edge {edge.name!r}: into 'ensemble' needs a LIF target with encoders")
                width = post.dimensions
            edge.check(width, pre.size)
            if edge.learning is not None:
                self._check_learning(edge)
        else:
            raise GraphError(f"edge {edge!r}: not a graph edge")

    def _check_learning(self, edge: Connection) -> None:
        """A PES edge runs from LIF neurons into a value node (LI with tau 0, Host), its error a
        value node of the target's size; a Dendritic edge runs from spiking neurons into LIF
        neurons, its error a value node and its feedback of (target size, error size)."""
        where = f"edge {edge.name!r}"
        rule = edge.learning
        assert rule is not None  # checked by the caller
        pre, post = self.nodes[edge.source], self.nodes[edge.target]
        error = self._rule_node(where, "error", rule.error)
        if isinstance(rule, Dendritic):
            if not pre.spiking:
                raise GraphError(f"{where}: a Dendritic learning edge starts at spiking neurons (got "
                                 f"{type(pre).__name__})")
            if not isinstance(post, (LIF, IF)) or getattr(post, "encoders", None) is not None \
                    or edge.into != "neurons":
                raise GraphError(f"{where}: a Dendritic learning edge ends at LIF or IF neurons (got "
                                 f"{type(post).__name__})")
            self._check_feedback(where, rule, post.size, error.size)
        else:
            if not isinstance(pre, (LIF, IF)):
                raise GraphError(f"{where}: a learning edge starts at LIF or IF neurons (got {type(pre).__name__})")
            if not (isinstance(post, Host) or (isinstance(post, LI) and post.tau == 0)) or edge.into != "neurons":
                raise GraphError(f"{where}: a learning edge ends at a value node (LI with tau 0, or Host), got "
                                 f"{type(post).__name__}")
            if error.size != post.size:
                raise GraphError(f"{where}: the error node {rule.error!r} must be a value node of size {post.size} "
                                 f"(got {type(error).__name__} x {error.size})")
        if rule.gate is not None and self._rule_node(where, "gate", rule.gate).size != 1:
            raise GraphError(f"{where}: the gate node {rule.gate!r} must be a value node of size 1")

    def _rule_node(self, where: str, role: str, name: str):
        """The value node a learning rule names as its ``role`` (error, gate)."""
        if name not in self.nodes:
            from ..errors import unknown_name

            raise GraphError(f"{where}: learning {role} " + unknown_name("node", name, sorted(self.nodes)))
        node = self.nodes[name]
        if node.spiking:
            size = f" of size {node.size}" if role == "error" else " of size 1"
            raise GraphError(f"{where}: the {role} node {name!r} must be a value node{size} (got "
                             f"{type(node).__name__})")
        return node

    def _check_feedback(self, where: str, rule, n_post: int, n_error: int) -> None:
        want = (n_post, n_error)
        if isinstance(rule.feedback, str):
            edges = {e.name: e for e in self.edges}
            if rule.feedback not in edges:
                from ..errors import unknown_name

                raise GraphError(f"{where}: learning feedback " + unknown_name("edge", rule.feedback, sorted(edges)))
            fb = edges[rule.feedback]
            n_src, n_dst = self.nodes[fb.source].size, self.nodes[fb.target].size
            if (n_src, n_dst) != want:
                raise GraphError(f"{where}: feedback through edge {rule.feedback!r} transposed is {n_src}x{n_dst}; "
                                 f"the errors need {want[0]}x{want[1]} (target size x error size)")
        elif rule.feedback.shape != want:
            raise GraphError(f"{where}: the feedback matrix has shape {rule.feedback.shape}; expected (target size, "
                             f"error size) = {want}")

    def learning_edges(self) -> list:
        """Indices of the edges that learn."""
        return [k for k, e in enumerate(self.edges) if isinstance(e, Connection) and e.learning is not None]

    # -- queries ---------------------------------------------------------------------------------
    def incoming(self, name: str) -> list:
        return [e for e in self.edges if e.target == name]

    def outgoing(self, name: str) -> list:
        return [e for e in self.edges if e.source == name]

    def neurons(self) -> dict:
        """Spiking neuron populations (not encoders) by name."""
        return {k: n for k, n in self.nodes.items() if isinstance(n, (LIF, IF, CubaLIF))}

    def inputs(self) -> dict:
        return {k: n for k, n in self.nodes.items() if isinstance(n, Input)}

    def topological_order(self) -> list:
        """Node names, every node after the sources of its incoming edges where the edges allow
        (a cycle is entered at its first node in ``nodes`` order): the order in which a step
        updates the nodes, so an edge from an earlier node carries this step's output and an edge
        closing a cycle the previous step's."""
        waiting = {name: {e.source for e in self.incoming(name) if e.source != name} for name in self.nodes}
        done: list = []
        while len(done) < len(self.nodes):
            ready = [n for n in self.nodes if n not in done and not waiting[n] - set(done)]
            pick = ready[0] if ready else next(n for n in self.nodes if n not in done)
            done.append(pick)
        return done

    # -- changes ---------------------------------------------------------------------------------
    def replace(self, **changes) -> "Graph":
        return dataclasses.replace(self, **changes)

    def with_nodes(self, **nodes) -> "Graph":
        return self.replace(nodes={**self.nodes, **nodes})

    def substituted(self, *subs: Substitution) -> "Graph":
        known = {s.id for s in self.substitutions}
        return self.replace(substitutions=self.substitutions + tuple(s for s in subs if s.id not in known))
