"""Shared by the serve tests: a tiny model that says varied tokens, and a real server on a free port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


def chatty_tiny(tokenizer, seed: int = 1):
    """The tests' tiny model with an untied random output head: the tied one repeats the prompt's last
    token (a newline, so every answer would strip to ""); this one writes varied words."""
    import torch
    from transformers import LlamaForCausalLM

    from mtsft.model import tiny_config

    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_config(tokenizer))
    torch.manual_seed(seed)
    model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.lm_head.weight))
    model.config.tie_word_embeddings = False
    return model.eval()


def loaded_tiny(tokenizer, tag_mode: str = "none"):
    from mtsft.serve.session import Loaded

    return Loaded(chatty_tiny(tokenizer), tokenizer, "tiny-test", tag_mode, None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(app, **config):
    """uvicorn serving `app` on 127.0.0.1 in a thread, configured as `mtsft serve` does; yields the base URL."""
    import uvicorn

    from mtsft.serve.api import server_config

    port = free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
