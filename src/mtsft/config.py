"""Typed configs: pydantic models loaded from YAML and overridden with `--set key=value`.

Every stage has one config class deriving from `StrictConfig`. Unknown keys are errors (a typo in a
recipe must not be silently ignored), and so are values of the wrong type; both name the key.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

C = TypeVar("C", bound="StrictConfig")


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file and the key."""


class StrictConfig(BaseModel):
    """Base of every config: unknown keys and wrong types are errors, also when assigned later."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def shipped_recipes() -> list[str]:
    """Names of the recipes inside the package (`mtsft/recipes/*.yaml`, subfolders as `accelerate/ddp`)."""
    root = files("mtsft") / "recipes"
    names = []
    for entry in root.iterdir():
        if entry.is_dir():
            names += [f"{entry.name}/{e.name[:-5]}" for e in entry.iterdir() if e.name.endswith(".yaml")]
        elif entry.name.endswith(".yaml"):
            names.append(entry.name[:-5])
    return sorted(names)


def resolve_recipe(spec: str | Path) -> Path | Traversable:
    """A recipe file from a path, or from the name of a shipped recipe (`lora` or `lora.yaml`)."""
    if Path(spec).is_file():
        return Path(spec)
    name = str(spec).removesuffix(".yaml")
    shipped = files("mtsft") / "recipes" / f"{name}.yaml"
    if shipped.is_file():
        return shipped
    raise ConfigError(f"{spec}: no such file, and no shipped recipe of that name "
                      f"(shipped: {', '.join(shipped_recipes())})")


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


def _set_path(data: dict, path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        child = node.get(part)
        node[part] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    node[path[-1]] = value


def apply_overrides(data: dict, overrides: list[str] | None = None, values: dict[str, Any] | None = None) -> dict:
    """`data` with `--set key=value` strings applied, then `values` ({dotted key: typed value}; None skips)."""
    data = dict(data)
    for item in overrides or []:
        _set_path(data, *parse_override(item))
    for key, value in (values or {}).items():
        if value is not None:
            _set_path(data, key.split("."), value)
    return data


def _explain(err: ValidationError, where: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    extra = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    if first["type"] == "extra_forbidden":
        return f"{where}: unknown key '{key}'{extra}"
    return f"{where}: '{key}': {first['msg']}{extra}"


def load_config(cls: type[C], path: str | Path | None = None, overrides: list[str] | None = None,
                values: dict[str, Any] | None = None) -> C:
    """Build `cls` from an optional recipe (a path or a shipped name), `key=value` override strings and
    typed `values` ({dotted key: value}, e.g. a command's flags), with one-line errors."""
    data: dict = {}
    where = "config"
    if path is not None:
        where = str(path)
        try:
            loaded = yaml.safe_load(resolve_recipe(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({e.__class__.__name__})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of keys at the top level")
        data = loaded or {}
    data = apply_overrides(data, overrides, values)
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_explain(e, where)) from None


def dump_config(cfg: BaseModel) -> dict:
    return cfg.model_dump(mode="json")
