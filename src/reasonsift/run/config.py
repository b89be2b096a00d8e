"""``StageConfig``: the base of every stage's config dataclass — from a dict or YAML, errors that name the field.

A stage declares ``@dataclass class XConfig(StageConfig)`` with defaults and a ``__post_init__`` that raises
``ValueError("field: message")``. This base adds loading (unknown keys and wrongly typed values are errors
naming the key), serialisation, and ``result_dict()``: the options that determine the outputs, which is
what ``--resume`` compares (``RUNTIME_ONLY`` names the rest).
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, asdict, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

C = TypeVar("C", bound="StageConfig")


class StageConfig:
    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = ()  # options that change no output: free to differ on resume

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    def result_dict(self) -> dict[str, Any]:
        """The options that determine the outputs (compared on ``--resume``)."""
        return {k: v for k, v in self.to_dict().items() if k not in self.RUNTIME_ONLY}

    @classmethod
    def from_dict(cls: type[C], d: dict[str, Any]) -> C:
        """Build from plain values (YAML, JSON, CLI); ``ValueError("field: ...")`` for unknown or mistyped keys."""
        if not isinstance(d, dict):
            raise ValueError(f"config: expected a mapping of option names to values, got {type(d).__name__}")
        hints = typing.get_type_hints(cls)
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        for key in d:
            if key not in names:
                raise ValueError(f"{key}: unknown {cls.__name__} field")
        values = {k: _check(k, v, hints.get(k, Any)) for k, v in d.items()}
        return cls(**values)

    @classmethod
    def from_yaml(cls: type[C], path: str | Path, **overrides: Any) -> C:
        """Load a YAML recipe; ``overrides`` win over it. Errors read ``PATH: field: message``."""
        data = read_yaml(path)
        try:
            return cls.from_dict({**data, **overrides})
        except ValueError as e:
            field = str(e).split(":", 1)[0]
            if field in overrides:
                raise
            raise ValueError(f"{path}: {e}") from None

    @classmethod
    def default(cls, name: str) -> Any:
        """The dataclass default of field ``name`` (so a CLI never restates it)."""
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name == name:
                if f.default is not MISSING:
                    return f.default
                if f.default_factory is not MISSING:
                    return f.default_factory()
                return None
        raise KeyError(f"{cls.__name__} has no field {name!r}")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; ``ValueError("PATH: ...")`` when it is not one."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config: no such file {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ValueError(f"{p}: not valid YAML ({e})") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ValueError(f"{p}: expected a mapping of option names to values")
    return data


def _check(name: str, value: Any, hint: Any) -> Any:
    """``value`` if it fits ``hint`` (ints accepted for floats, a string for a list/dict the config parses)."""
    if value is None or hint is Any or _fits(value, hint):
        return value
    shown = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
    raise ValueError(f"{name}: expected {shown}, got {value!r}")


def _fits(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        return isinstance(value, list | tuple | str)  # a comma-separated string is parsed by the config
    if origin is dict:
        return isinstance(value, dict | str)  # "k=v,k=v" is parsed by the config
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True
