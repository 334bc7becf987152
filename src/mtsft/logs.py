"""Progress lines: the one print every stage's `log` defaults to, and the one the commands pass.

Messages carry Rich markup (`[bold cyan]== train[/]`, `[dim]...[/]`). On a terminal it renders as colour;
anywhere else (a pipe, a log file, `mtsft iterate`'s child processes writing to either) it is stripped, so a
plain log reads `== train`, never the tags. Rich's Console decides both from the stream it writes to.
"""

from __future__ import annotations

from rich.console import Console


def print_log(message: object = "") -> None:
    """Print one progress line to stdout: markup rendered on a terminal, stripped elsewhere, never wrapped."""
    # A Console per line: it reads whether stdout is a terminal when it is made, and stdout may have been
    # redirected since import (a test's capture, a notebook, a child process's pipe).
    Console(soft_wrap=True, highlight=False).print(message)
