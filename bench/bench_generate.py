"""Eval generation near the machine's limit (issue 29): mtsft's engine against a fixed baseline, and both
against the bound the machine's own matmul speed sets, all measured in one run.

    .venv/bin/python bench/bench_generate.py                                  # 96 prompts, 64 new tokens
    .venv/bin/python bench/bench_generate.py --prompts 16 --max-new-tokens 32  # a quick check

Prompts: the built-in eval suite's own (`load_suite("builtin")`: every task, zh and en, rendered with the
chat template as `mtsft eval run` renders them), taken round-robin over tasks.
Baseline: transformers' `generate`, greedy, one prompt at a time, same threads, same prompts (fixed).
Engine: `mtsft.eval.generate.generate` (the running batch: finished rows leave, waiting prompts join).
Prints generated tokens/s of both, the ratio (target: at least 8x), how many greedy outputs are identical
(target: at least 95%), and the bound: the peak of the model's matmul shapes (torch, the model's dtype;
bf16 timed too, for the record) divided by the FLOPs of one token (2 x the weights of every matmul, the
tied output layer included, plus attention over the run's mean context). Writes bench/results/generate.json
(generate_<N>p.json for a run on fewer than 96 prompts, so a quick check never replaces the figure).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from results import save_result  # noqa: E402

FULL = 96


def suite_prompts(tokenizer, n: int) -> list[str]:
    """The first `n` records of the built-in eval suite, round-robin over tasks, rendered like eval does."""
    from itertools import chain, zip_longest

    from mtsft import tasks
    from mtsft.eval.evaluate import EvalRunConfig, last_prompt, load_suite
    from mtsft.eval.generate import render_prompts

    cfg = EvalRunConfig(per_task=max(1, -(-n // (2 * len(tasks.names())))))
    by_task: dict[str, list[dict]] = {}
    for r in load_suite("builtin", cfg):
        by_task.setdefault(r["task"], []).append(r)
    records = [r for r in chain.from_iterable(zip_longest(*by_task.values())) if r is not None][:n]
    return render_prompts(tokenizer, [last_prompt(r) for r in records], [r["task"] for r in records], "none",
                          [r.get("lang") for r in records])


def matmul_shapes(model) -> list[tuple[int, int]]:
    """(in, out) of every matmul one token goes through: each linear layer, and the output layer."""
    import torch

    shapes = [tuple(m.weight.shape[::-1]) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    return shapes  # lm_head is a Linear even when its weight is tied to the embedding


def matmul_peak(shapes: list[tuple[int, int]], dtype, rows: int = 256, repeats: int = 5) -> float:
    """FLOP/s of the model's matmuls at their best: every shape once per pass over `rows` tokens (a
    prefill-sized batch), best of `repeats` passes."""
    import torch
    import torch.nn.functional as F

    distinct = {s: shapes.count(s) for s in set(shapes)}
    pairs = {s: (torch.randn(rows, s[0]).to(dtype), torch.randn(s[1], s[0]).to(dtype)) for s in distinct}
    flops = sum(2 * rows * i * o * k for (i, o), k in distinct.items())
    best = float("inf")
    with torch.inference_mode():
        for _ in range(repeats + 1):  # the first pass warms the kernels up
            start = time.perf_counter()
            for s, k in distinct.items():
                x, w = pairs[s]
                for _ in range(k):
                    F.linear(x, w)
            best = min(best, time.perf_counter() - start)
    return flops / best


def flops_per_token(model, shapes: list[tuple[int, int]], context: float) -> float:
    """2 x every matmul's weights, plus attention: QK^T and AV over `context` positions in every layer."""
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    attention = 2 * 2 * cfg.num_hidden_layers * cfg.num_attention_heads * head_dim * context
    return 2 * sum(i * o for i, o in shapes) + attention


def timed(fn):
    """(result, wall seconds, CPU seconds of this process): on a busy machine the CPU time is the steadier."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=FULL)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=None, help="engine rows (default: eval's batch_size)")
    ap.add_argument("--model", default="builtin")
    args = ap.parse_args()

    import torch

    from mtsft.eval.evaluate import EvalRunConfig
    from mtsft.eval.generate import generate, generate_with_transformers
    from mtsft.model import load_model, load_tokenizer

    batch_size = args.batch_size or EvalRunConfig().batch_size
    model, tok = load_model(args.model, log=lambda *_: None), load_tokenizer(args.model, log=lambda *_: None)
    texts = suite_prompts(tok, args.prompts)
    cap = args.max_new_tokens
    n_tokens = lambda outs: [len(tok(o, add_special_tokens=False)["input_ids"]) for o in outs]  # noqa: E731
    generate(model, tok, texts[:2], max_new_tokens=4)  # warm-up: kernels, allocator
    engine, t_engine, cpu_engine = timed(lambda: generate(model, tok, texts, max_new_tokens=cap,
                                                          batch_size=batch_size))
    baseline, t_base, cpu_base = timed(lambda: generate_with_transformers(model, tok, texts, max_new_tokens=cap,
                                                                          batch_size=1))
    rate_engine, rate_base = sum(n_tokens(engine)) / t_engine, sum(n_tokens(baseline)) / t_base
    cpu_ratio = (sum(n_tokens(engine)) / cpu_engine) / (sum(n_tokens(baseline)) / cpu_base)
    same = [i for i in range(len(texts)) if engine[i] == baseline[i]]

    dtype = next(model.parameters()).dtype
    shapes = matmul_shapes(model)
    peaks = {str(d).removeprefix("torch."): matmul_peak(shapes, d) for d in (torch.float32, torch.bfloat16)}
    peak = peaks[str(dtype).removeprefix("torch.")]
    prompt_lens = [len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts]
    context = sum(p + n / 2 for p, n in zip(prompt_lens, n_tokens(baseline))) / len(texts)
    per_token = flops_per_token(model, shapes, context)
    bound = peak / per_token

    print(f"{len(texts)} prompts (built-in eval suite), {cap} new tokens at most, {torch.get_num_threads()} "
          f"threads, {dtype}")
    print(f"baseline (transformers generate, batch 1): {rate_base:7.1f} tok/s ({t_base:.1f}s)")
    print(f"mtsft engine (batch {batch_size}):             {rate_engine:7.1f} tok/s ({t_engine:.1f}s)")
    print(f"speed-up {rate_engine / rate_base:.2f}x (target 8x; {cpu_ratio:.2f}x in CPU time); identical greedy outputs {len(same)}/{len(texts)} "
          f"({len(same) / len(texts):.0%}, target 95%)")
    print("matmul peak, model shapes x 256 rows: " + ", ".join(f"{d} {p / 1e9:.0f} GFLOP/s" for d, p in peaks.items()))
    print(f"bound: {peak / 1e9:.0f} GFLOP/s / {per_token / 1e6:.0f} MFLOP per token (mean context {context:.0f}) "
          f"= {bound:.0f} tok/s; engine at {rate_engine / bound:.0%} of it, baseline at {rate_base / bound:.0%}")
    for i in (i for i in range(len(texts)) if i not in set(same)):
        print(f"  differs #{i}: engine {engine[i][:60]!r} | baseline {baseline[i][:60]!r}")
    save_result("generate" if len(texts) >= FULL else f"generate_{len(texts)}p", {
        "prompts": len(texts), "max_new_tokens": cap, "batch_size": batch_size, "threads": torch.get_num_threads(),
        "dtype": str(dtype), "baseline_tokens_per_s": round(rate_base, 1), "engine_tokens_per_s": round(rate_engine, 1),
        "speedup": round(rate_engine / rate_base, 2), "speedup_cpu_time": round(cpu_ratio, 2), "identical": len(same),
        "differ": [i for i in range(len(texts)) if i not in set(same)],
        "matmul_peak_gflops": {d: round(p / 1e9, 1) for d, p in peaks.items()},
        "flops_per_token_m": round(per_token / 1e6, 1), "mean_context": round(context, 1),
        "bound_tokens_per_s": round(bound, 1), "engine_share_of_bound": round(rate_engine / bound, 3)})


if __name__ == "__main__":
    main()
