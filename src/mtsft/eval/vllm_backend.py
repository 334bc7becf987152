"""An optional vLLM generation backend for `mtsft eval run --set backend=vllm` (or `auto`).

vLLM batches and pages the KV cache far better than a `generate` loop, which matters when a GPU scores a
large suite. It is never required: it runs only where vLLM is installed and a CUDA GPU is present, and
the transformers path (`mtsft.eval.generate`) stays the default and is what the tests run. Prompts are
rendered by mtsft (the run's task-tag mode, the chat template), so both backends see the same text; a
LoRA run is served as a LoRA request on its base model, a full fine-tune as a model of its own.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

BACKENDS = ("transformers", "vllm", "auto")


def vllm_usable() -> tuple[bool, str]:
    """(usable, why not): vLLM importable and a CUDA device present."""
    if importlib.util.find_spec("vllm") is None:
        return False, "vllm is not installed (pip install vllm)"
    import torch

    if not torch.cuda.is_available():
        return False, "vllm needs a CUDA GPU and none is visible"
    return True, ""


def pick_backend(requested: str) -> str:
    """`transformers`, or `vllm` when asked for (an error naming why it cannot run) or when `auto` finds it
    usable."""
    if requested not in BACKENDS:
        raise ValueError(f"backend {requested!r}: expected one of {', '.join(BACKENDS)}")
    if requested == "transformers":
        return "transformers"
    usable, why = vllm_usable()
    if requested == "vllm" and not usable:
        raise RuntimeError(f"backend vllm: {why}; use backend=transformers (the default) or auto")
    return "vllm" if usable else "transformers"


class VllmGenerator:
    """Greedy generation with vLLM for a model spec and an optional `mtsft train` run."""

    def __init__(self, model: str, adapter: str | Path | None = None, *, log=print):
        from vllm import LLM

        from mtsft.model import BUILTIN, resolve_model_path, run_weights

        self.lora = None
        path, lora_path = resolve_model_path(model, log=log), None
        if adapter is not None:
            weights, base = run_weights(adapter)
            if base is None:              # a full fine-tune: its weights are the whole model
                path = str(weights)
            else:
                path = resolve_model_path(base if model == BUILTIN else model, log=log)
                lora_path = str(weights)
        self.llm = LLM(model=path, enable_lora=lora_path is not None, seed=0)
        if lora_path is not None:
            from vllm.lora.request import LoRARequest

            self.lora = LoRARequest("mtsft-run", 1, lora_path)

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens)
        outputs = self.llm.generate(list(prompts), params, lora_request=self.lora, use_tqdm=False)
        return [o.outputs[0].text.strip() for o in outputs]
