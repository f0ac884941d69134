"""The spiking network graph between the model families and the simulators.

Families lower a model to a :class:`Graph` (:mod:`.nodes`, :mod:`.edges`); targets legalize it
(:mod:`.legalize`, against the :class:`~.target.Traits` a backend declares); backends build and run
any graph (one builder per primitive); hardware reads the legalized graph. Graphs print
(:func:`describe`) and serialize losslessly (:mod:`.serialize`)."""

from .edges import PES, Alpha, Connection, Decoded, Dendritic, DoubleExp, Lowpass
from .legalize import legalize
from .network import Graph, Substitution
from .nodes import (IF, LI, LIF, AnalogEncoder, BernoulliEncoder, CubaLIF, GraphError, Host, Input, Integrator, Node,
                    PoissonEncoder, Probe, RegularEncoder, Signal)
from .target import DecodePath, Traits
from .text import describe

__all__ = ["Graph", "Substitution", "Connection", "Decoded", "PES", "Dendritic", "Lowpass", "Alpha", "DoubleExp",
           "Input", "Signal", "PoissonEncoder", "BernoulliEncoder", "RegularEncoder", "AnalogEncoder", "LIF", "IF",
           "CubaLIF", "LI", "Integrator", "Host", "Probe", "Node", "GraphError", "Traits", "DecodePath", "legalize",
           "describe"]
