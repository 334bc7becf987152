"""`mtsft chat` (terminal chat) and `mtsft serve` (OpenAI-compatible API + web chat page)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mtsft.cli.common import (config_option, console, err_console, friendly_errors, from_config, model_option,
                              path_str, print_log, set_option, task_tags_option)
from mtsft.serve.config import ChatConfig, ServeConfig


def _threads_option():
    return typer.Option(None, "--threads", min=1, max=4096, help="CPU threads for torch (default: MTSFT_THREADS, "
                                                                 "else the cores this process may use).")


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def register(app: typer.Typer) -> None:
    @app.command(help="Chat with a model in the terminal, tokens streamed (reads one message a line, writes "
                      "one JSON answer a line, when stdin is not a terminal).")
    @friendly_errors
    def chat(
        model: str = model_option(),
        adapter: Path = typer.Option(None, "--adapter", help="A training run (or adapter/model dir) to chat with."),
        config: str = config_option("Chat settings (ChatConfig keys)", shipped=False),
        set_: list[str] = set_option("temperature=0.7"),
        system: str = typer.Option(None, "--system", help="System prompt to start with."),
        task: str = typer.Option(None, "--task", help="Force this task's tag from the start (like /task)."),
        task_tags: str = task_tags_option(),
        show_task: bool = typer.Option(False, "--show-task", help="Say which task each answer performs."),
        max_new_tokens: int = from_config(ChatConfig, "max_new_tokens", "--max-new-tokens", min=1),
        temperature: float = from_config(ChatConfig, "temperature", "--temperature", min=0.0, max=2.0,
                                         help="0 is greedy."),
        top_p: float = from_config(ChatConfig, "top_p", "--top-p", min=0.01, max=1.0),
        threads: int = _threads_option(),
    ) -> None:
        from mtsft.config import load_config
        from mtsft.serve.chat import ChatSession, run_script, run_terminal
        from mtsft.serve.session import check_task, load

        cfg = load_config(ChatConfig, config, set_, {
            "model": model, "adapter": path_str(adapter), "system": system, "task": task, "task_tags": task_tags,
            "show_task": show_task or None, "max_new_tokens": max_new_tokens, "temperature": temperature,
            "top_p": top_p, "threads": threads})
        _set_threads(cfg.threads)
        quiet = not sys.stdin.isatty()
        log = (lambda *a, **k: None) if quiet else (lambda m: err_console.print(f"[dim]{m}[/]", highlight=False))
        loaded = load(cfg.model, cfg.adapter, task_tags=cfg.task_tags, log=log)
        session = ChatSession(loaded, max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature,
                              top_p=cfg.top_p, system=cfg.system,
                              forced_task=check_task(cfg.task) if cfg.task else None)
        if quiet:
            raise typer.Exit(run_script(session, sys.stdin, show_task=cfg.show_task))
        raise typer.Exit(run_terminal(session, console, show_task=cfg.show_task))

    @app.command(help="Serve a model: OpenAI-compatible /v1/chat/completions (streaming and not), /v1/models, "
                      "/health, and a web chat page at /.")
    @friendly_errors
    def serve(
        ctx: typer.Context,
        model: str = model_option(),
        adapter: Path = typer.Option(None, "--adapter", help="A training run (or adapter/model dir) to serve."),
        config: str = config_option("Server settings (ServeConfig keys; the API key itself never: "
                                    "api_key_file names a file holding it)", shipped=False),
        set_: list[str] = set_option("max_batch=8"),
        host: str = from_config(ServeConfig, "host", "--host",
                                help="Interface to bind (0.0.0.0 exposes it to the network)."),
        port: int = from_config(ServeConfig, "port", "--port", min=0, max=65535),
        api_key: str = typer.Option(None, "--api-key", envvar="MTSFT_API_KEY",
                                    help="Require `Authorization: Bearer KEY` on every route but /health. On the "
                                         "command line every local user can read it (ps): prefer "
                                         "--api-key-file or MTSFT_API_KEY."),
        api_key_file: Path = typer.Option(None, "--api-key-file", help="Read the API key from this file."),
        allow_host: list[str] = typer.Option([], "--allow-host",
                                             help="Without a key, also answer requests for this Host name, "
                                                  "no port (repeatable; loopback and the bound address always "
                                                  "are)."),
        task_tags: str = task_tags_option(),
        max_tokens_cap: int = from_config(ServeConfig, "max_tokens_cap", "--max-tokens-cap", min=1,
                                          help="Largest max_tokens accepted."),
        max_batch: int = from_config(ServeConfig, "max_batch", "--max-batch", min=1,
                                     help="Answers decoded together at most (more wait for a free row)."),
        batch_wait_ms: float = from_config(ServeConfig, "batch_wait_ms", "--batch-wait-ms", min=0.0, max=10_000.0,
                                           help="An idle server lets a burst gather while requests arrive "
                                                "less than this apart (at most 10x this in all); a request "
                                                "that arrives while others run joins them at the next step."),
        max_queue: int = from_config(ServeConfig, "max_queue", "--max-queue", min=1,
                                     help="Requests waiting or running before 429."),
        report: Path = typer.Option(None, "--report", help="Diagnosis report.html to link from the page "
                                                            "(default: the newest one found under the run)."),
        threads: int = _threads_option(),
    ) -> None:
        from mtsft.config import load_config
        from mtsft.serve.api import local_hosts, read_api_key
        from mtsft.serve.api import serve as run_server
        from mtsft.serve.session import load

        cfg = load_config(ServeConfig, config, set_, {
            "model": model, "adapter": path_str(adapter), "host": host, "port": port,
            "api_key_file": path_str(api_key_file), "allow_host": list(allow_host) or None, "task_tags": task_tags,
            "max_tokens_cap": max_tokens_cap, "max_batch": max_batch, "batch_wait_ms": batch_wait_ms,
            "max_queue": max_queue, "report": path_str(report), "threads": threads})
        _set_threads(cfg.threads)
        # by name: typer ships its own copy of click, whose ParameterSource is not click's
        key_on_command_line = getattr(ctx.get_parameter_source("api_key"), "name", None) == "COMMANDLINE"
        if cfg.api_key_file is not None:
            if key_on_command_line:
                raise ValueError("give --api-key-file or --api-key, not both")
            api_key = read_api_key(Path(cfg.api_key_file))
        elif key_on_command_line:
            err_console.print("[yellow]warning:[/] --api-key on the command line is visible to every user of this "
                              "machine (ps, /proc); use --api-key-file or MTSFT_API_KEY", highlight=False)
        if cfg.host not in ("127.0.0.1", "localhost", "::1") and not api_key:
            names = ", ".join(local_hosts(cfg.host, cfg.allow_host))
            err_console.print(f"[yellow]warning:[/] serving on {cfg.host} without an API key: anyone who can reach "
                              f"this port can use the model (by the Host names {names}; add more with "
                              "--allow-host)", highlight=False)
        loaded = load(cfg.model, cfg.adapter, task_tags=cfg.task_tags, log=print_log)
        run_server(loaded, host=cfg.host, port=cfg.port, api_key=api_key, allowed_hosts=tuple(cfg.allow_host),
                   max_tokens_cap=cfg.max_tokens_cap, max_batch=cfg.max_batch, batch_wait=cfg.batch_wait_ms / 1000,
                   max_pending=cfg.max_queue, report=Path(cfg.report) if cfg.report else None, log=print_log)
