"""The real embedded 135M model: cold conversion from GGUF, warm load, and a sane answer."""

from __future__ import annotations

import time

import pytest

from mtsft import model as M

pytestmark = pytest.mark.slow


def test_cold_conversion_then_warm_load_and_greedy_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("MTSFT_CACHE", str(tmp_path))
    start = time.perf_counter()
    M.resolve_model_path(M.BUILTIN)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    model, tok = M.load_model(M.BUILTIN), M.load_tokenizer(M.BUILTIN)
    warm = time.perf_counter() - start
    print(f"builtin load: cold {cold:.1f}s, warm {warm:.2f}s")
    inputs = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                     add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0][inputs["input_ids"].shape[1]:])
    assert warm < cold
