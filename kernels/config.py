"""Candidate configurations: a frozen, hashable mapping from knob name to a JSON scalar."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from kernels.errors import CandidateError

ConfigValue = int | float | str | bool | None
ConfigSpace = dict[str, list[ConfigValue]]


@dataclass(frozen=True)
class Config:
    """One point of a CONFIG_SPACE. Items are sorted so equal configs hash equally."""

    items: tuple[tuple[str, ConfigValue], ...] = ()

    @classmethod
    def of(cls, values: Mapping[str, ConfigValue] | None = None) -> Config:
        return cls(tuple(sorted((values or {}).items())))

    def as_dict(self) -> dict[str, ConfigValue]:
        return dict(self.items)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.items) or "(default)"


def validate_config(config: Config, space: ConfigSpace) -> None:
    """Reject configs that name unknown knobs or values outside the declared space."""
    for key, value in config.items:
        if key not in space:
            raise CandidateError(f"config key {key!r} is not in CONFIG_SPACE (knobs: {sorted(space)})")
        if value not in space[key]:
            raise CandidateError(f"config {key}={value!r} is not one of {space[key]}")


def space_size(space: ConfigSpace) -> int:
    return math.prod(len(v) for v in space.values()) if space else 1


def enumerate_space(space: ConfigSpace) -> Iterator[Config]:
    """Every point of the space, in declaration order (the first listed value first)."""
    keys = list(space)
    for values in itertools.product(*(space[k] for k in keys)):
        yield Config.of(dict(zip(keys, values, strict=True)))


def default_config(space: ConfigSpace) -> Config:
    """The first listed value of each knob: the author's default."""
    return Config.of({k: v[0] for k, v in space.items()})
