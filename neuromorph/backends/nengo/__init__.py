"""Nengo backends: ``nengo`` (Nengo's reference simulator) and ``loihi`` (NengoLoihi: the chip when
NxSDK and a board are present, otherwise NengoLoihi's emulator, target 'sim').

Both build any network graph as a ``nengo.Network`` (:mod:`.graph`); ``loihi`` declares the chip's
limits as :class:`~neuromorph.graph.Traits` (first-order synapses, inputs off chip with one spike
per step, voltages start at 0, 8-bit weights, decode neurons for decoded recurrence) so that
legalization records every change in the graph's substitutions."""

from __future__ import annotations

import warnings
from typing import cast

import numpy as np

from ...graph import DecodePath, Input, Traits
from ...records import RunRecord
from ...spikes import raster_from_steps
from ..base import SpikingBackend
from .common import DT, NengoError, hardware_name, import_nengo, loihi_target, quiet, simulator, versions


def describe_inputs(graph) -> dict:
    """One step of zeros for every Input node (a network built only to be described)."""
    return {name: np.zeros((1, graph.copies, node.size)) for name, node in graph.nodes.items() if isinstance(node,
                                                                                                             Input)}


class NengoBackend(SpikingBackend):
    name = "nengo"
    description = ("Nengo reference simulator: any spiking network graph (LIF ensembles, spike encoders, "
                   "alpha synapses; CPU)")
    loihi = False

    def target(self):
        return None

    def load(self) -> None:
        import nengo  # noqa: F401

        if self.loihi:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="This version of `nengo_loihi` has not been tested")
                import nengo_loihi  # noqa: F401

    def versions(self) -> dict:
        return versions(self.name)

    def hardware(self) -> dict:
        target = self.target()
        return {"runs_on": hardware_name(self.name, target), "target": target or "reference", "dt": DT}

    def traits(self) -> Traits:
        return Traits(name=self.name, dt=DT, learning_rules=frozenset({"PES"}))

    def network(self, graph, inputs=None, input_dt=None, duration: float = 0.0, seed: int = 0):
        from .graph import network

        return network(graph, inputs, input_dt, duration, seed, loihi=self.on_chip(graph))

    def on_chip(self, graph) -> bool:
        """Whether ``graph`` has neurons for the chip (without any, the host runs it all)."""
        return self.loihi and bool(graph.neurons())

    def run_graph(self, graph, inputs=None, input_dt=None, duration: float = 0.0, sample_dt=None, seed: int = 0,
                  progress=None) -> RunRecord:
        from .graph import gather, learned_weights

        built = self.network(graph, inputs, input_dt, duration, seed)
        sample_dt = sample_dt or graph.dt
        kind = self.name if self.on_chip(graph) else "nengo"
        with quiet(), simulator(built.net, kind, seed, self.target(), built.decode_tau, dt=graph.dt,
                                pes_wgt_exp=built.pes_wgt_exp) as sim:
            if built.learned and self.on_chip(graph):
                from .loihi import check_learning

                check_learning(sim)
            sim.run_steps(built.steps)
            probes = gather(built, sim, graph, sample_dt)
            raster = raster_from_steps(sim.data[built.raster[1]], graph.dt, built.raster[0]) if built.raster else None
            resources = self.resources_of(sim) if self.on_chip(graph) else None
            learned = learned_weights(built, sim, self.on_chip(graph))
        if progress is not None:
            progress(built.steps)
        spikes = {name: np.concatenate([c.counts for c in counters]) for name, counters in built.counters.items()}
        samples = np.arange(int(round(duration / sample_dt)) + 1) * sample_dt
        return RunRecord(t=samples, probes=probes, spikes=spikes, dt=graph.dt, steps=built.steps, raster=raster,
                         resources=resources, learned=learned,
                         quantization=self.quantization(graph, seed) if self.on_chip(graph) else None)

    def resources_of(self, sim) -> dict | None:
        return None

    def quantization(self, graph, seed: int) -> dict | None:
        return None

    def build_description(self, graph) -> str:
        from .describe import lines_for_network

        built = self.network(graph, describe_inputs(graph), graph.dt, graph.dt)
        return "\n".join(lines_for_network(built.net))


class LoihiBackend(NengoBackend):
    name = "loihi"
    description = "NengoLoihi: the Loihi chip if NxSDK is present, else its emulator (default hardware target)"
    loihi = True

    def target(self):
        return loihi_target()

    def traits(self) -> Traits:
        from nengo_loihi.block import MAX_IN_AXONS

        from .loihi import LEARN_EPOCH, PES_PRODUCT_SHIFT, decode_gain, lif_rates, realized_tau, realized_tau_ref

        return Traits(name=self.name, dt=DT, fixed_dt=True, synapses=frozenset({"none", "lowpass"}), chip=True,
                      cuba=False,
                      offchip_spikes_per_step=1, settable_voltage=False, reset_modes=frozenset({"zero"}),
                      if_refractory=False,
                      lif_rates=lif_rates, realized_tau_ref=realized_tau_ref,
                      decode=DecodePath(tau=0.005, latency=2 * DT, gain=decode_gain()),
                      realized_tau=realized_tau, weight_bits=8, learning_rules=frozenset({"PES"}),
                      learning_interval=LEARN_EPOCH * DT, learning_error_grid=2**PES_PRODUCT_SHIFT,
                      learning_step_follows_rate=True, input_axons=MAX_IN_AXONS)

    def resources_of(self, sim) -> dict | None:
        from .loihi import resources

        return resources(sim)

    def quantization(self, graph, seed: int) -> dict | None:
        from .loihi import quantization

        single = graph.replace(copies=1, nodes=one_copy_nodes(graph))
        built = self.network(single, describe_inputs(single), graph.dt, graph.dt, seed)
        return quantization(built.net, seed)

    def build_description(self, graph) -> str:
        from .loihi import resources

        text = super().build_description(graph)
        built = self.network(graph, describe_inputs(graph), graph.dt, graph.dt)
        try:
            with quiet(), simulator(built.net, self.name, 0, self.target(), built.decode_tau) as sim:
                use = resources(sim)
        except import_nengo().exceptions.BuildError as e:
            return text + f"\nNengoLoihi's build fails: {e}"
        out = [text, f"Loihi resources: {use['cores']} cores (1 block = 1 core) on {use['chips']} chip(s)"]
        for block in use["blocks"]:
            parts = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in block.items() if k != "block")
            out.append(f"  {block['block']}: {parts}")
        q = self.quantization(graph, 0)
        if q and "relative_rms_error" in q:
            error = q["relative_rms_error"]
            out.append(f"weights: 8-bit with a shared exponent per core, relative rms error {error:.2%}")
        return "\n".join(out)

    def realized_weights(self, graph) -> dict:
        """The weights the chip realizes for each dense spiking projection into on-chip neurons:
        {edge index: (n_post, n_pre)} (NengoLoihi's own discretization)."""
        return _realized(self, graph)

    def resources(self, graph) -> dict:
        """NengoLoihi's cores (blocks) for one copy of ``graph``, or {'error': ...} if its build fails."""
        from .loihi import resources

        single = graph.replace(copies=1, nodes=one_copy_nodes(graph))
        built = self.network(single, describe_inputs(single), graph.dt, graph.dt)
        try:
            with quiet(), simulator(built.net, self.name, 0, "sim", built.decode_tau) as sim:
                return resources(sim)
        except import_nengo().exceptions.BuildError as e:
            return {"error": str(e)}


def _realized(backend, graph) -> dict:
    from .common import import_loihi
    from .loihi import edge_weights

    single = graph.replace(copies=1, nodes=one_copy_nodes(graph))
    built = backend.network(single, describe_inputs(single), graph.dt, graph.dt)
    with quiet(), import_loihi().Simulator(built.net, dt=DT, target="simreal", progress_bar=False) as sim:
        return edge_weights(sim, single)


def one_copy_nodes(graph) -> dict:
    """The graph's nodes with per-copy arrays cut to the first copy."""
    import dataclasses

    from ...graph import IF, LI, LIF, RegularEncoder, Signal

    out = {}
    for name, node in graph.nodes.items():
        if isinstance(node, (LIF, IF, LI)) and node.v0 is not None and node.v0.ndim == 2:
            node = dataclasses.replace(node, v0=node.v0[0])
        if isinstance(node, RegularEncoder) and cast(np.ndarray, node.phase).ndim == 2:
            node = dataclasses.replace(node, phase=cast(np.ndarray, node.phase)[0])
        if isinstance(node, Signal) and node.values.ndim == 3:
            node = dataclasses.replace(node, values=node.values[:, 0])
        out[name] = node
    return out


__all__ = ["NengoBackend", "LoihiBackend", "NengoError"]
