"""Lossless serialization of graphs: one ``.npz`` file holding a JSON description (format
``neuromorph.graph/1``) and every array by key. ``to_data``/``from_data`` give the same as plain
Python data (arrays left as arrays), for tests and other formats."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np

from .edges import EDGE_TYPES, LEARNING_TYPES, SYNAPSE_TYPES
from .network import Graph, Substitution
from .nodes import NODE_TYPES, GraphError, Probe

FORMAT = "neuromorph.graph/1"


def _synapse_data(syn):
    return None if syn is None else {"type": type(syn).__name__, **dataclasses.asdict(syn)}


def _synapse(data):
    if data is None:
        return None
    if data.get("type") not in SYNAPSE_TYPES:
        from ..errors import unknown_name

        raise GraphError(unknown_name("synapse type", data.get("type"), list(SYNAPSE_TYPES)))
    return SYNAPSE_TYPES[data["type"]](**{k: v for k, v in data.items() if k != "type"})


def _learning_data(rule):
    return None if rule is None else {"type": type(rule).__name__, **dataclasses.asdict(rule)}


def _learning(data):
    if data is None:
        return None
    data = dict(data)
    kind = data.pop("type")
    if kind not in LEARNING_TYPES:
        from ..errors import unknown_name

        raise GraphError(unknown_name("learning rule", kind, list(LEARNING_TYPES)))
    return LEARNING_TYPES[kind](**data)


def _fields(obj) -> dict:
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.name == "synapse":
            value = _synapse_data(value)
        elif f.name == "learning":
            value = _learning_data(value)
        out[f.name] = value
    return out


def to_data(graph: Graph) -> dict:
    """The graph as plain data: every node and edge with its type name and fields."""
    return {
        "format": FORMAT,
        "name": graph.name,
        "dt": graph.dt,
        "copies": graph.copies,
        "nodes": {name: {"type": type(node).__name__, **_fields(node)} for name, node in graph.nodes.items()},
        "edges": [{"type": type(e).__name__, **_fields(e)} for e in graph.edges],
        "probes": {name: dataclasses.asdict(p) for name, p in graph.probes.items()},
        "substitutions": [s.as_dict() for s in graph.substitutions],
        "notes": list(graph.notes),
        "meta": dict(graph.meta),
    }


def from_data(data: dict) -> Graph:
    """The graph from :func:`to_data` output (raises :class:`GraphError` for unknown types)."""
    if data.get("format") != FORMAT:
        raise GraphError(f"not a neuromorph graph (format {data.get('format')!r}; this reads {FORMAT})")
    nodes = {}
    for name, spec in data["nodes"].items():
        spec = dict(spec)
        kind = spec.pop("type")
        if kind not in NODE_TYPES:
            from ..errors import unknown_name

            raise GraphError(f"node {name!r}: " + unknown_name("node type", kind, list(NODE_TYPES)))
        nodes[name] = NODE_TYPES[kind](**spec)
    edges = []
    for spec in data["edges"]:
        spec = dict(spec)
        kind = spec.pop("type")
        if kind not in EDGE_TYPES:
            from ..errors import unknown_name

            raise GraphError(f"edge {spec.get('source')} -> {spec.get('target')}: "
                             + unknown_name("edge type", kind, list(EDGE_TYPES)))
        spec["synapse"] = _synapse(spec.get("synapse"))
        if "learning" in spec:
            spec["learning"] = _learning(spec["learning"])
        edges.append(EDGE_TYPES[kind](**spec))
    probes = {name: Probe(**p) for name, p in data.get("probes", {}).items()}
    subs = [Substitution.from_dict(s) for s in data.get("substitutions", [])]
    return Graph(name=data["name"], nodes=nodes, edges=tuple(edges), probes=probes, dt=float(data["dt"]),
                 copies=int(data["copies"]), substitutions=tuple(subs), notes=tuple(data.get("notes", [])),
                 meta=dict(data.get("meta", {})))


def _split_arrays(value, arrays: dict, key: str):
    """Replace arrays in nested data by ``{"__array__": key}`` references collected in ``arrays``."""
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, dict):
        return {k: _split_arrays(v, arrays, f"{key}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split_arrays(v, arrays, f"{key}/{i}") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _join_arrays(value, arrays):
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return np.array(arrays[value["__array__"]])
        return {k: _join_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_join_arrays(v, arrays) for v in value]
    return value


def to_bytes(graph: Graph) -> bytes:
    """``.npz`` content: ``graph.json`` and the arrays it references."""
    arrays: dict = {}
    doc = _split_arrays(to_data(graph), arrays, "g")
    buf = io.BytesIO()
    np.savez_compressed(buf, **{"graph.json": np.array(json.dumps(doc))}, **arrays)
    return buf.getvalue()


def from_bytes(data: bytes) -> Graph:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        doc = json.loads(str(z["graph.json"]))
        arrays = {k: z[k] for k in z.files if k != "graph.json"}
    return from_data(_join_arrays(doc, arrays))


def save(graph: Graph, path) -> None:
    from ..files import write_bytes_atomic

    write_bytes_atomic(path, to_bytes(graph))


def load(path) -> Graph:
    from pathlib import Path

    return from_bytes(Path(path).read_bytes())
