"""Hardware profiles (``hardware_profiles/NAME.yaml``): what a chip offers, every number with its
source and how far to trust it, validated like model specs.

A fact is ``{value, source, status, note}``; ``status`` is one of :data:`STATUSES`. Unknown
numbers stay unknown: ``value: null`` with ``status: unknown`` (or ``not-applicable``), and only then.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Annotated, Literal, Optional, Union, get_args

from pydantic_core import PydanticCustomError
from pydantic import Field, Strict, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from ..errors import Problem, SpecError, unknown_name
from ..spec.common import CONFIG, Identifier, describe
from ..spec.pydantic_errors import problems_from_validation
from ..spec.documents import read_document
from ..spec.yamlio import line_of

FORMAT_VERSION = 1
#: How far a number can be trusted.
Status = Literal["measured", "published", "second-hand", "disputed", "lower-bound", "upper-bound", "assumption",
                 "unknown", "not-applicable"]
STATUSES: tuple[str, ...] = get_args(Status)
#: Statuses that go with ``value: null``.
NO_VALUE = ("unknown", "not-applicable")

Value = Union[Annotated[float, Strict()], Annotated[int, Strict()], Annotated[str, Strict()],
              tuple[Union[Annotated[float, Strict()], Annotated[int, Strict()], Annotated[str, Strict()]], ...], None]


@dataclass(config=CONFIG, frozen=True)
class Fact:
    """One number (or list) with where it comes from."""

    value: Value
    source: Annotated[str, Strict(), Field(min_length=1)]
    status: Status
    note: str = ""

    @model_validator(mode="after")
    def _unknown_is_null(self):
        if (self.value is None) != (self.status in NO_VALUE):
            raise ValueError("value must be null exactly when status is 'unknown' or 'not-applicable' "
                             f"(got value {describe(self.value)}, status {self.status!r})")
        if isinstance(self.value, (int, float)) and not isinstance(self.value, bool) and self.value < 0:
            raise ValueError(f"must be >= 0 (got {self.value})")
        return self

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass(config=CONFIG, frozen=True)
class Chip:
    name: Annotated[str, Strict(), Field(min_length=1)]
    cores: Fact
    neurons: Fact


@dataclass(config=CONFIG, frozen=True)
class Core:
    """Per-core limits: neurons (compartments), input and output axons, synapse memory (bits)."""

    neurons: Fact
    input_axons: Fact
    output_axons: Fact
    synapse_memory_bits: Fact


@dataclass(config=CONFIG, frozen=True)
class Weights:
    bits: Fact
    shared_exponent: Fact
    exponent_range: Fact


@dataclass(config=CONFIG, frozen=True)
class Energy:
    """Energy per operation (pJ); ``synaptic_update_pj``: one plastic weight's update by the
    chip's learning engine (absent: unknown)."""

    synaptic_op_pj: Fact
    neuron_update_pj: Fact
    spike_pj: Fact
    synaptic_update_pj: Optional[Fact] = None


#: Reset modes a profile's ``neuron_reset`` may list (as the network graph's neurons know them).
RESETS = ("zero", "subtract")


@dataclass(config=CONFIG, frozen=True)
class Profile:
    format_version: Annotated[int, Strict()]
    kind: Literal["hardware_profile"]
    name: Identifier
    chip: Chip
    core: Core
    weights: Weights
    synapse_types: Fact
    learning_rules: Fact
    time_step: Fact
    refractory_max_steps: Fact
    energy: Energy
    chips: Fact
    #: Neurons per represented dimension that a decoded on-chip connection passes (NengoLoihi's
    #: decode neurons), or null where decoded connections are plain weights.
    decode_neurons_per_dimension: Fact
    #: How synapse memory is counted: NengoLoihi's dense format (Loihi 1), or weight bits only.
    synapse_format: Literal["nengo_loihi_dense", "weight_bits"] = "weight_bits"
    #: The backend that builds networks for this chip (its own build is checked and its weight
    #: format used), if neuromorph has one.
    simulator: Optional[Identifier] = None
    #: How a neuron's voltage is reset after a spike: a list of ``zero`` (to 0, the charge above
    #: threshold lost) and ``subtract`` (by the threshold); absent: either.
    neuron_reset: Optional[Fact] = None
    #: Steps between two updates of a plastic synapse by the learning engine (absent: every step).
    learning_interval_steps: Optional[Fact] = None
    description: str = ""
    caveats: tuple[str, ...] = field(default_factory=tuple)

    @field_validator("neuron_reset")
    @classmethod
    def _known_resets(cls, fact):
        value = fact.value if fact is not None else None
        if value is not None and (not isinstance(value, (list, tuple)) or not value
                                  or any(v not in RESETS for v in value)):
            shown = list(value) if isinstance(value, tuple) else value
            raise PydanticCustomError("nm_neuron_reset", "value must be a list of {allowed} (got {found})",
                                      {"allowed": ", ".join(RESETS), "found": repr(shown)})
        return fact


def facts(obj, prefix: str = "") -> dict:
    """Every fact of a profile by dotted key."""
    out = {}
    for name in getattr(obj, "__dataclass_fields__", {}):
        value = getattr(obj, name)
        key = f"{prefix}{name}"
        if isinstance(value, Fact):
            out[key] = value
        elif hasattr(value, "__dataclass_fields__"):
            out.update(facts(value, key + "."))
    return out


def validate_file(path) -> tuple:
    """(profile or None, problems) of a profile file."""
    file = str(path)
    data, lines, problems = read_document(path, "hardware profile")
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(f"a hardware profile is a mapping of keys (got {describe(data)})", file=file)]
    if data.get("format_version") != FORMAT_VERSION:
        return None, [Problem(f"unsupported format version {describe(data.get('format_version'))}; this neuromorph "
                              f"reads: {FORMAT_VERSION}", path="format_version", file=file,
                              line=line_of(lines, ("format_version",)))]
    try:
        return TypeAdapter(Profile).validate_python(data), []
    except ValidationError as e:
        return None, problems_from_validation(e, Profile, file, lines)


def find(name: str) -> Path:
    """The file of profile ``name`` (raises SpecError listing the known ones)."""
    from . import profile_dirs, profile_names

    for folder in profile_dirs():
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    raise SpecError([Problem(unknown_name("hardware profile", name, profile_names()))])


def load(name_or_path) -> Profile:
    """A validated profile by name (searched in the profile folders) or by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = find(str(name_or_path))
    profile, problems = validate_file(path)
    if profile is None:
        raise SpecError(problems)
    return profile
