"""`mtsft export RUN --merge --out DIR`: a run's weights as a plain Hugging Face model directory.

A LoRA run is merged into its base model (`merge_and_unload`), so transformers, vLLM or llama.cpp's
converter load it without PEFT; `merge=False` copies the adapter as it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def export_run(run: str | Path, out: str | Path, *, merge: bool = True, log=print) -> Path:
    from mtsft.model import load_model, load_tokenizer, run_weights

    run, out = Path(run), Path(out)
    weights, base = run_weights(run)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer(str(weights), log=log)
    if base is None:
        model = load_model(str(weights), log=log)
    elif not merge:
        shutil.copytree(weights, out, dirs_exist_ok=True)
        log(f"copied the LoRA adapter to {out} (base model: {base})")
        return out
    else:
        from peft import PeftModel

        model = PeftModel.from_pretrained(load_model(base, log=log), str(weights)).merge_and_unload()
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    log(f"wrote a plain Hugging Face model to {out}" + (f" (LoRA merged into {base})" if base else ""))
    return out
