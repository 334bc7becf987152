"""What every command shares: one-line errors instead of tracebacks, and the console."""

from __future__ import annotations

import functools
import os

import typer
from rich.console import Console

from mtsft.logs import print_log  # noqa: F401  (the log every command hands the library)
from mtsft.sandbox import SandboxUnavailable

console = Console()
err_console = Console(stderr=True)

# Errors a user can fix from the message alone; anything else is a bug and keeps its traceback.
# OSError covers the file system's answers (a file where a folder is needed, permissions, a full disk):
# they are reported in one line that names the path.
# SandboxUnavailable: no bubblewrap here and no --unsafe-exec; its message says what to install or pass.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, KeyError, MemoryError, SandboxUnavailable)


def _message(e: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(e, ValidationError):  # a typed object built in code: one line naming the key, not pydantic's dump
        from mtsft.config import explain

        return explain(e, lambda loc: e.title)
    if isinstance(e, MemoryError):
        return "out of memory: lower the batch size or max length, or use LoRA/QLoRA"
    if isinstance(e, KeyError) and e.args:
        return str(e.args[0])
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        where = f"{e.filename} -> {e.filename2}" if e.filename2 is not None else str(e.filename)
        return f"{where}: {e.strerror}"
    return str(e) or e.__class__.__name__


def friendly_errors(fn):
    """Turn user errors into `error: <one line>` and exit code 2 (MTSFT_DEBUG=1 shows the traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as e:
            if os.environ.get("MTSFT_DEBUG"):
                raise
            msg = _message(e)
            err_console.print(f"[bold red]error:[/] {msg}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def out_option(what: str, *, required: bool = False, default=None):
    """`-o/--out`: where the command writes. Every command that writes takes it under this one name."""
    return typer.Option(... if required else default, "-o", "--out", help=what)


def from_config(cls, key: str, *names: str, **kw):
    """A flag whose default is the config class's (shown in --help): the flag is None unless given, so a
    value from `-c`/`--set` is not silently overwritten by a default repeated here."""
    return typer.Option(None, *names, show_default=str(cls.model_fields[key].default), **kw)


def deprecated_option(old: str, new: str, **kw):
    """A hidden old spelling kept so scripts keep working; `deprecated(value, ...)` warns when it is used."""
    return typer.Option(None, old, hidden=True, help=f"Deprecated: use {new}.", **kw)


def deprecated(value, old: str, new: str):
    """`value` of a deprecated flag, with one warning line on stderr when the flag was given."""
    if value:
        err_console.print(f"[yellow]warning:[/] {old} is deprecated: use {new}", highlight=False, soft_wrap=True)
    return value


def config_option(what: str, *, shipped: bool = True):
    where = "a YAML path or the name of a shipped recipe" if shipped else "a YAML path"
    return typer.Option(None, "-c", "--config", help=f"{what}: {where}.")


def set_option(example: str):
    return typer.Option([], "--set", help=f"Override a config key, e.g. --set {example} (repeatable).")


def task_tags_option():
    """The task-tag mode under its one name (`task_tags` in every config)."""
    return typer.Option(None, "--task-tags", help="Task tags to render prompts with: none, system or prefix "
                                                  "(default: the adapter run's own mode, else none).")


def model_option():
    return typer.Option(None, "--model", help="builtin (default), tiny, a hub id or a local dir.")


def path_str(path) -> str | None:
    """A path flag as the config's string field (None stays None: the flag was not given)."""
    return None if path is None else str(path)
