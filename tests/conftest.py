"""Shared fixtures: the embedded tokenizer and a tiny randomly initialised model built in the test."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The test run's own cache (converted models, the task classifier, the crosstalk judge), kept in the
# checkout (.test-cache/, git-ignored): built by the first run, reused by later ones, and the user's
# ~/.cache/mtsft is never read or written. Set before anything imports mtsft; subprocesses inherit it.
TEST_CACHE = Path(__file__).resolve().parent.parent / ".test-cache"
os.environ["MTSFT_CACHE"] = str(TEST_CACHE)
os.environ["HF_DATASETS_CACHE"] = str(TEST_CACHE / "hf-datasets")

import pytest  # noqa: E402

from mtsft import sandbox  # noqa: E402

# Without an OS wall (no bubblewrap, no user namespaces) mtsft refuses to run generated code. The code these
# tests score is the tests' own, so they may run it without the wall; tests of the wall itself skip there.
if sandbox.mode() == "unavailable":
    os.environ[sandbox.UNSAFE_ENV] = "1"


@pytest.fixture(scope="session")
def tokenizer():
    from mtsft.model import load_tokenizer

    return load_tokenizer("builtin", log=lambda *_: None)


def build_tiny_model(tokenizer, *, seed: int = 0, layers: int = 2, hidden: int = 64):
    """A 2-layer, hidden-64 Llama with the embedded tokenizer's vocabulary, random weights."""
    import torch
    from transformers import LlamaForCausalLM

    from mtsft.model import tiny_config

    torch.manual_seed(seed)
    return LlamaForCausalLM(tiny_config(tokenizer, layers=layers, hidden=hidden))


@pytest.fixture
def tiny_model(tokenizer):
    return build_tiny_model(tokenizer)
