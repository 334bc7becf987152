"""Typed configs: pydantic models loaded from YAML and overridden with `--set key=value`.

Every stage has one config class deriving from `StageConfig`. Unknown keys are errors (a typo in a
recipe must not be silently ignored), and so are values of the wrong type; both name the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

C = TypeVar("C", bound="StageConfig")


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file and the key."""


class StageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def parse_override(item: str) -> tuple[list[str], Any]:
    """'train.lr=1e-4' -> (['train', 'lr'], 1e-4); the value is read as YAML so types come out right."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected key=value")
    key, raw = item.split("=", 1)
    if not key.strip():
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(data: dict, overrides: list[str] | None) -> dict:
    data = dict(data)
    for item in overrides or []:
        path, value = parse_override(item)
        node = data
        for part in path[:-1]:
            child = node.get(part)
            node[part] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        node[path[-1]] = value
    return data


def _explain(err: ValidationError, where: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    extra = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    if first["type"] == "extra_forbidden":
        return f"{where}: unknown key '{key}'{extra}"
    return f"{where}: '{key}': {first['msg']}{extra}"


def load_config(cls: type[C], path: str | Path | None = None, overrides: list[str] | None = None) -> C:
    """Build `cls` from an optional YAML file plus `key=value` overrides, with one-line errors."""
    data: dict = {}
    where = "config"
    if path is not None:
        where = str(path)
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({e.__class__.__name__})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of keys at the top level")
        data = loaded or {}
    data = apply_overrides(data, overrides)
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_explain(e, where)) from None


def dump_config(cfg: BaseModel) -> dict:
    return cfg.model_dump(mode="json")
