"""`mtsft chat` (terminal chat) and `mtsft serve` (OpenAI-compatible API + web chat page)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mtsft.cli.common import console, err_console, friendly_errors, model_option


def _threads_option():
    return typer.Option(None, "--threads", min=1, max=4096, help="CPU threads for torch (default: MTSFT_THREADS, "
                                                                 "else the cores this process may use).")


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def _tag_option():
    return typer.Option(None, "--task-tags", help="Override the run's task-tag mode: none, system or prefix.")


def register(app: typer.Typer) -> None:
    @app.command(help="Chat with a model in the terminal, tokens streamed (reads one message a line, writes "
                      "one JSON answer a line, when stdin is not a terminal).")
    @friendly_errors
    def chat(
        model: str = model_option(),
        adapter: Path = typer.Option(None, "--adapter", help="A training run (or adapter/model dir) to chat with."),
        system: str = typer.Option(None, "--system", help="System prompt to start with."),
        task: str = typer.Option(None, "--task", help="Force this task's tag from the start (like /task)."),
        task_tags: str = _tag_option(),
        show_task: bool = typer.Option(False, "--show-task", help="Say which task each answer performs."),
        max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=1),
        temperature: float = typer.Option(0.0, "--temperature", min=0.0, max=2.0, help="0 is greedy."),
        top_p: float = typer.Option(1.0, "--top-p", min=0.01, max=1.0),
        threads: int = _threads_option(),
    ) -> None:
        from mtsft.serve.chat import ChatSession, run_script, run_terminal
        from mtsft.serve.session import check_task, load

        _set_threads(threads)
        quiet = not sys.stdin.isatty()
        log = (lambda *a, **k: None) if quiet else (lambda m: err_console.print(f"[dim]{m}[/]", highlight=False))
        loaded = load(model, str(adapter) if adapter else None, tag_mode=task_tags, log=log)
        session = ChatSession(loaded, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                              system=system, forced_task=check_task(task) if task else None)
        if quiet:
            raise typer.Exit(run_script(session, sys.stdin, show_task=show_task))
        raise typer.Exit(run_terminal(session, console, show_task=show_task))

    @app.command(help="Serve a model: OpenAI-compatible /v1/chat/completions (streaming and not), /v1/models, "
                      "/health, and a web chat page at /.")
    @friendly_errors
    def serve(
        ctx: typer.Context,
        model: str = model_option(),
        adapter: Path = typer.Option(None, "--adapter", help="A training run (or adapter/model dir) to serve."),
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0 exposes it to the network)."),
        port: int = typer.Option(8000, "--port", min=0, max=65535),
        api_key: str = typer.Option(None, "--api-key", envvar="MTSFT_API_KEY",
                                    help="Require `Authorization: Bearer KEY` on every route but /health. On the "
                                         "command line every local user can read it (ps): prefer "
                                         "--api-key-file or MTSFT_API_KEY."),
        api_key_file: Path = typer.Option(None, "--api-key-file", help="Read the API key from this file."),
        allow_host: list[str] = typer.Option([], "--allow-host",
                                             help="Without a key, also answer requests for this Host name, "
                                                  "no port (repeatable; loopback and the bound address always "
                                                  "are)."),
        task_tags: str = _tag_option(),
        max_tokens_cap: int = typer.Option(1024, "--max-tokens-cap", min=1, help="Largest max_tokens accepted."),
        max_batch: int = typer.Option(32, "--max-batch", min=1, help="Requests generated together at most."),
        batch_wait_ms: float = typer.Option(50.0, "--batch-wait-ms", min=0.0, max=10_000.0,
                                            help="A batch keeps gathering while requests arrive less than this "
                                                 "apart (at most 10x this in all)."),
        max_pending: int = typer.Option(128, "--max-queue", min=1, help="Requests waiting or running before 429."),
        report: Path = typer.Option(None, "--report", help="Diagnosis report.html to link from the page "
                                                            "(default: the newest one found under the run)."),
        threads: int = _threads_option(),
    ) -> None:
        from mtsft.serve.api import local_hosts, read_api_key
        from mtsft.serve.api import serve as run_server
        from mtsft.serve.session import load

        _set_threads(threads)
        # by name: typer ships its own copy of click, whose ParameterSource is not click's
        key_on_command_line = getattr(ctx.get_parameter_source("api_key"), "name", None) == "COMMANDLINE"
        if api_key_file is not None:
            if key_on_command_line:
                raise ValueError("give --api-key-file or --api-key, not both")
            api_key = read_api_key(api_key_file)
        elif key_on_command_line:
            err_console.print("[yellow]warning:[/] --api-key on the command line is visible to every user of this "
                              "machine (ps, /proc); use --api-key-file or MTSFT_API_KEY", highlight=False)
        if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
            names = ", ".join(local_hosts(host, allow_host))
            err_console.print(f"[yellow]warning:[/] serving on {host} without an API key: anyone who can reach "
                              f"this port can use the model (by the Host names {names}; add more with "
                              "--allow-host)", highlight=False)
        loaded = load(model, str(adapter) if adapter else None, tag_mode=task_tags, log=console.print)
        run_server(loaded, host=host, port=port, api_key=api_key, allowed_hosts=tuple(allow_host),
                   max_tokens_cap=max_tokens_cap, max_batch=max_batch, batch_wait=batch_wait_ms / 1000,
                   max_pending=max_pending, report=report, log=console.print)
