"""`mtsft chat`'s and `mtsft serve`'s configs: a YAML file (`-c`) and `--set key=value` like every other
command, the command's flags on top. Each default lives here once; the flags only override it."""

from __future__ import annotations

from pydantic import Field

from mtsft.config import StrictConfig
from mtsft.tags import TagMode


class InferenceConfig(StrictConfig):
    """What chat and serve share: the model, its run, its task tags and the torch threads."""

    model: str | None = None               # builtin (None), tiny, a hub id or a local dir
    adapter: str | None = None             # a training run (or an adapter/model dir)
    task_tags: TagMode | None = None       # None: the run's own mode (its config.yaml), else none
    threads: int | None = Field(None, ge=1, le=4096)   # None: MTSFT_THREADS, else the usable cores


class ChatConfig(InferenceConfig):
    system: str | None = None              # system prompt to start with
    task: str | None = None                # force this task's tag from the start (like /task)
    show_task: bool = False                # say which task each answer performs
    max_new_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)   # 0 is greedy
    top_p: float = Field(1.0, ge=0.01, le=1.0)


class ServeConfig(InferenceConfig):
    host: str = "127.0.0.1"                # 0.0.0.0 exposes it to the network
    port: int = Field(8000, ge=0, le=65535)
    # The key itself is never a config value (a YAML file is copied around): a file that holds it, or
    # --api-key / MTSFT_API_KEY on the command line.
    api_key_file: str | None = None
    allow_host: list[str] = []             # Host names answered without a key, besides loopback and the bound one
    max_tokens_cap: int = Field(1024, ge=1)
    max_batch: int = Field(32, ge=1)
    batch_wait_ms: float = Field(50.0, ge=0.0, le=10_000.0)
    max_queue: int = Field(128, ge=1)      # requests waiting or running before 429
    report: str | None = None              # report.html to link from the page (None: the newest under the run)
