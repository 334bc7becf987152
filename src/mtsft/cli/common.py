"""What every command shares: one-line errors instead of tracebacks, and the console."""

from __future__ import annotations

import functools
import os

import typer
from rich.console import Console

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


def config_option(what: str):
    return typer.Option(None, "-c", "--config", help=f"{what}: a YAML path or the name of a shipped recipe.")


def set_option(example: str):
    return typer.Option([], "--set", help=f"Override a config key, e.g. --set {example} (repeatable).")


def model_option():
    return typer.Option(None, "--model", help="builtin (default), tiny, a hub id or a local dir.")


def path_str(path) -> str | None:
    """A path flag as the config's string field (None stays None: the flag was not given)."""
    return None if path is None else str(path)
