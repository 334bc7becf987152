"""Typed configs: pydantic models loaded from YAML and overridden with `--set key=value`.

Every stage has one config class deriving from `StrictConfig`. Unknown keys are errors (a typo in a
recipe must not be silently ignored), and so are values of the wrong type, non-finite numbers (`inf`,
`nan`) and numbers outside a field's range; each error is one line naming the key and where the value came
from (the recipe file and line, the `--set` item or the command's option), raised before any work.
"""

from __future__ import annotations

import os
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

C = TypeVar("C", bound="StrictConfig")

# No count, size, step, weight or threshold mtsft reads is sane beyond a C int: torch, numpy and the
# tokenizers take such numbers as 32-bit values, and a larger one is a typo or an attack. Fields with a
# tighter meaning (shares, epochs, learning rates, seeds) carry their own, tighter range.
MAX_NUMBER = 2**31 - 1
MAX_EPOCHS = 100        # more passes than this over the data is not fine-tuning
MAX_LR = 1.0            # AdamW diverges far below this; a larger value is a typo (1e3 for 1e-3)

Seed = Annotated[int, Field(ge=0, le=MAX_NUMBER)]        # within numpy's seed range (transformers' set_seed seeds it)
Epochs = Annotated[float, Field(gt=0, le=MAX_EPOCHS)]
LearningRate = Annotated[float, Field(gt=0, le=MAX_LR)]
Weight = Annotated[float, Field(ge=0)]                    # a mixture weight (finite: the base class refuses inf/nan)


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file and the key."""


def _numbers(value: Any):
    """The plain numbers inside a field's value (nested configs check their own fields)."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)


class StrictConfig(BaseModel):
    """Base of every config: unknown keys, wrong types, `inf`/`nan` and numbers beyond `MAX_NUMBER` are
    errors, also when assigned later. Each field's own range is declared on the field. `RECIPES` names the
    folder of `mtsft/recipes/` whose shipped recipes a bare `-c NAME` means for this config (None: none)."""

    RECIPES: ClassVar[str | None] = None
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _within_reach(cls, value: Any) -> Any:
        for number in _numbers(value):
            if abs(number) > MAX_NUMBER:
                raise ValueError(f"{_shown(number)} is out of range (at most {MAX_NUMBER:,} in size)")
        return value


def shipped_recipes(folder: str | None = None) -> list[str]:
    """Names of the recipes inside the package (`mtsft/recipes/KIND/NAME.yaml`: train, run, accelerate), as
    typed: bare for `folder`'s own (`lora`), the others qualified (`run/demo`, `accelerate/ddp`)."""
    names = []
    for kind in (files("mtsft") / "recipes").iterdir():
        if kind.is_dir():
            names += [e.name[:-5] if kind.name == folder else f"{kind.name}/{e.name[:-5]}"
                      for e in kind.iterdir() if e.name.endswith(".yaml")]
    return sorted(names)


def resolve_recipe(spec: str | Path, folder: str | None = None) -> Path | Traversable:
    """A recipe file from a shipped recipe's name or a path. A bare name (`lora`, `lora.yaml`) is a shipped
    recipe of `folder` (the config's kind; `run-demo` still names run/demo) before it is a file here, so a
    stray copy in the current folder never shadows it; an argument with a path separator is a path first,
    then a qualified shipped name (`accelerate/ddp`, `run/demo`)."""
    text = str(spec)
    name = text.removesuffix(".yaml")
    has_separator = "/" in text or os.sep in text
    if has_separator and Path(text).is_file():
        return Path(text)
    root = files("mtsft") / "recipes"
    bare = [f"{folder}/{name}", f"{folder}/{name.removeprefix(folder + '-')}"] if folder else []
    for candidate in [name] if has_separator else bare:
        shipped = root.joinpath(*f"{candidate}.yaml".split("/"))
        if shipped.is_file():
            return shipped
    if not has_separator and Path(text).is_file():
        return Path(text)
    raise ConfigError(f"{spec}: no such file, and no shipped recipe of that name "
                      f"(shipped: {', '.join(shipped_recipes(folder))})")


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


def _related(a: list, b: list) -> bool:
    """One key path holds the other (`balance` and `balance.weights.code`)."""
    n = min(len(a), len(b))
    return [str(p) for p in a[:n]] == [str(p) for p in b[:n]]


def _yaml_line(text: str, loc: list) -> int | None:
    """The line of the deepest key along `loc` in a YAML text, or None."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _origin(loc: list, path: str | Path | None, text: str | None, overrides: list[str] | None,
            values: dict[str, Any] | None) -> str:
    """Where the value at `loc` came from: a command option, a `--set` item, the recipe file (and line)."""
    if not loc:  # a check across keys: the file holds them, or the command built them
        return str(path) if path is not None else "config"
    for key, value in (values or {}).items():
        if value is not None and _related(key.split("."), loc):
            return "--" + key.rsplit(".", 1)[-1].replace("_", "-")
    for item in reversed(overrides or []):
        if _related(item.split("=", 1)[0].strip().split("."), loc):
            return f"--set {item}"
    if path is None:
        return "config"
    line = _yaml_line(text, loc) if text and loc else None
    return f"{path}, line {line}" if line else str(path)


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int past Python's digit limit for conversion to text
        return "a number of thousands of digits"
    return text if len(text) <= 40 else text[:37] + "..."


def explain(err: ValidationError, where=lambda loc: "config") -> str:
    """A pydantic error as one line: where the value came from, the key, what is wrong, what was given."""
    first = err.errors()[0]
    loc = list(first["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    extra = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    if first["type"] == "extra_forbidden":
        line = f"{where(loc)}: unknown key '{key}'{extra}"
    else:
        given = first.get("input")
        got = f" (got {_shown(given)})" if isinstance(given, (int, float, str)) and loc else ""
        line = f"{where(loc)}: '{key}': {first['msg']}{got}{extra}"
    return line.replace("\r", "\\r").replace("\n", "\\n")  # a key or --set item with a line break stays one line


def load_config(cls: type[C], path: str | Path | None = None, overrides: list[str] | None = None,
                values: dict[str, Any] | None = None) -> C:
    """Build `cls` from an optional recipe (a path or a shipped name), `key=value` override strings and
    typed `values` ({dotted key: value}, e.g. a command's flags), with one-line errors."""
    data: dict = {}
    text = None
    if path is not None:
        text = resolve_recipe(path, cls.RECIPES).read_text(encoding="utf-8")
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({e.__class__.__name__})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of keys at the top level")
        data = loaded or {}
    data = apply_overrides(data, overrides, values)
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise ConfigError(explain(e, lambda loc: _origin(loc, path, text, overrides, values))) from None


def dump_config(cfg: BaseModel) -> dict:
    return cfg.model_dump(mode="json")
