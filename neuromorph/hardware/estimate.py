r"""What a model needs on a neuromorphic chip, from its structure alone (no simulator).

Populations that run on chip, as the spiking compilers map them (docs/nengo.md):

- layered NLA: one LIF population per hidden layer; inputs spike off chip and arrive on axons;
  the output voltages are read out on the host;
- BM: per synapse, one ensemble of 3 x ``spiking.neurons`` LIF neurons and NengoLoihi's
  decode-neuron block (10 on/off pairs per decoded dimension) for the recurrent connection.

A population of n neurons is split into the fewest blocks (cores) of at most ``core.neurons``
neurons whose synapse memory fits, sizes ceil(n / k) first (as NengoLoihi splits). Synapse
memory of a block of m neurons with dense input from n_pre axons: ``nengo_loihi_dense``:
n_pre x sum over chunks of 64 targets of ceil((8 c + 10) / 64) x 64 bits (c: targets in the
chunk); ``weight_bits``: n_pre x m x weight bits. A neuron needs one output axon per target block
(decode neurons share on/off population axons). The BM axon counts follow NengoLoihi's builds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: NengoLoihi's decode neurons (Preset10): on/off pairs per decoded dimension.
DECODE_PAIRS = 10


@dataclass
class Population:
    """Neurons on chip with dense input from ``fan_in`` presynaptic neurons."""

    name: str
    neurons: int
    fan_in: int
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


def populations(model) -> list:
    """The model's on-chip populations."""
    if model.family == "bm":
        from ..families import bm

        n = bm.resolve(model).n
        ens = 3 * model.spiking.neurons
        out = []
        for k in range(n):
            # the ensemble's 3 dimensions arrive as on/off population axons, once from the host
            # (s) and once from the decode neurons: 2 x 3 + 2 x 3 input axons
            out.append(Population(f"bm[{k}]", ens, 0, [f"decode[{k}]"], extra_in_axons=12))
            out.append(Population(f"decode[{k}]", 2 * DECODE_PAIRS * 3, ens, [f"bm[{k}]"], axons_per_target=6))
        return out
    from ..families import nla

    st = nla.structure(model)
    if not st.layered:
        return [Population("network", st.n, st.n + st.n_in)]
    hidden = st.layers[:-1]
    out = []
    for k, layer in enumerate(hidden):
        pre = st.n_in if k == 0 else hidden[k - 1].stop - hidden[k - 1].start
        targets = [f"h{k + 2}"] if k + 1 < len(hidden) else []
        out.append(Population(f"h{k + 1}", layer.stop - layer.start, pre, targets))
    return out


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


def split(pop: Population, max_neurons: int | None, max_bits: int | None, fmt: str, weight_bits) -> list:
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


def blocks(model, profile) -> list:
    """Every block (core) the model needs on ``profile``'s chip, with output axons filled in."""
    core, fmt = profile.core, profile.synapse_format
    bits = profile.weights.bits.value if isinstance(profile.weights.bits.value, int) else None
    pops = populations(model)
    by_name = {p.name: split(p, core.neurons.value, core.synapse_memory_bits.value, fmt, bits) for p in pops}
    for p in pops:
        n_target_blocks = sum(len(by_name[t]) for t in p.targets if t in by_name)
        for b in by_name[p.name]:
            b.output_axons = (p.axons_per_target or b.neurons) * n_target_blocks
    return [b for p in pops for b in by_name[p.name]]
