r"""What a network graph needs on a neuromorphic chip (no simulator): the blocks (cores) of its
on-chip populations, as NengoLoihi maps them.

On-chip populations are the graph's neuron nodes (one copy). Their input axons, per core:

- a dense projection from n_pre spiking neurons (on or off chip): n_pre axons;
- values from the host into an ensemble's d dimensions: 2 d population axons (on/off input neurons);
- a decoded edge between on-chip ensembles (d dimensions into the target's represented space)
  becomes, on a chip with decode neurons, a population of ``decode_neurons_per_dimension`` x d
  neurons fed densely by the source and sending 2 d population axons to the target.

A population of n neurons is split into the fewest blocks of at most ``core.neurons`` neurons whose
synapse memory fits, sizes ceil(n / k) first (as NengoLoihi splits). Synapse memory of a block of
m neurons with dense input from n_pre axons: ``nengo_loihi_dense``: n_pre x sum over chunks of 64
targets of ceil((8 c + 10) / 64) x 64 bits (c: targets in the chunk); ``weight_bits``:
n_pre x m x weight bits. A neuron needs one output axon per target block (decode neurons share
on/off population axons).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..graph import Connection, Decoded


@dataclass
class OnChip:
    """Neurons on chip with dense input from ``fan_in`` presynaptic neurons."""

    name: str
    neurons: int
    fan_in: int = 0
    targets: list = field(default_factory=list)  # names of on-chip populations it projects to
    extra_in_axons: int = 0  # axons of shared (population) inputs besides the dense fan-in
    axons_per_target: int | None = None  # output axons per target core, if not one per neuron


@dataclass
class Block:
    population: str
    index: int
    neurons: int
    input_axons: int
    output_axons: int = 0
    synapse_bits: int = 0

    def as_dict(self) -> dict:
        return {"population": self.population, "index": self.index, "neurons": self.neurons,
                "input_axons": self.input_axons, "output_axons": self.output_axons, "synapse_bits": self.synapse_bits}


def populations(graph, profile) -> list:
    """The graph's on-chip populations (decode-neuron populations included)."""
    per_dim = profile.decode_neurons_per_dimension.value
    pops = {name: OnChip(name, node.size) for name, node in graph.neurons().items()}
    extra = []
    for edge in graph.edges:
        post = pops.get(edge.target)
        if post is None:
            continue
        pre_node = graph.nodes[edge.source]
        if isinstance(edge, Decoded) and edge.source in pops and per_dim:
            d = edge.out_dimensions()
            name = f"decode[{edge.source}->{edge.target}]"
            extra.append(OnChip(name, per_dim * d, fan_in=pre_node.size, targets=[edge.target],
                                    axons_per_target=2 * d))
            pops[edge.source].targets.append(name)
            post.extra_in_axons += 2 * d
        elif isinstance(edge, Decoded) and edge.source in pops:
            post.fan_in += pre_node.size
            pops[edge.source].targets.append(edge.target)
        elif isinstance(edge, Connection) and pre_node.spiking:
            post.fan_in += pre_node.size
            if edge.source in pops:
                pops[edge.source].targets.append(edge.target)
        else:  # values from the host
            d = graph.nodes[edge.target].dimensions if edge.into == "ensemble" else post.neurons
            post.extra_in_axons += 2 * d
    return list(pops.values()) + extra


def dense_bits(n_targets: int) -> int:
    """NengoLoihi's synapse bits per input axon for dense weights onto ``n_targets`` neurons."""
    bits, left = 0, n_targets
    while left > 0:
        c = min(64, left)
        bits += -(-(8 * c + 10) // 64) * 64
        left -= c
    return bits


def synapse_bits(n_pre: int, m: int, fmt: str, weight_bits: int | None) -> int:
    if fmt == "nengo_loihi_dense":
        return n_pre * dense_bits(m)
    return n_pre * m * (weight_bits or 8)


def split(pop: OnChip, max_neurons: int | None, max_bits: int | None, fmt: str, weight_bits) -> list:
    """Blocks of ``pop``: the fewest equal-ish parts that fit neurons and synapse memory."""
    n = pop.neurons
    k = 1 if max_neurons is None else -(-n // max_neurons)
    while True:
        size = -(-n // k)
        bits = synapse_bits(pop.fan_in + pop.extra_in_axons, size, fmt, weight_bits)
        if max_bits is None or bits <= max_bits or size == 1:
            break
        k += 1
    sizes = [size] * (n // size) + ([n % size] if n % size else [])
    while len(sizes) < k:  # NengoLoihi keeps k blocks: shift neurons into the last ones
        sizes[-1] -= 1
        sizes.append(1)
    axons = pop.fan_in + pop.extra_in_axons
    return [Block(pop.name, i, m, axons, synapse_bits=synapse_bits(axons, m, fmt, weight_bits))
            for i, m in enumerate(sizes)]


def blocks(graph, profile) -> list:
    """Every block (core) one copy of ``graph`` needs on ``profile``'s chip, output axons filled in."""
    core, fmt = profile.core, profile.synapse_format
    bits = profile.weights.bits.value if isinstance(profile.weights.bits.value, int) else None
    pops = populations(graph, profile)
    by_name = {p.name: split(p, core.neurons.value, core.synapse_memory_bits.value, fmt, bits) for p in pops}
    for p in pops:
        n_target_blocks = sum(len(by_name[t]) for t in p.targets if t in by_name)
        for b in by_name[p.name]:
            b.output_axons = (p.axons_per_target or b.neurons) * n_target_blocks
    return [b for p in pops for b in by_name[p.name]]
