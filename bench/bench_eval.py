"""Generation speed: batched greedy generation (what `mtsft eval run` does) vs one prompt at a time, on the
same 96 prompts of the embedded model, in one process, one after the other.

    .venv/bin/python bench/bench_eval.py                     # 96 prompts, batch 16, 64 new tokens
    .venv/bin/python bench/bench_eval.py --batch-size 32 --max-new-tokens 96

Prompts: half the built-in held-out suite (12 tasks, zh and en), half real general instructions (the
shipped alpaca zh/en eval slices), rendered with the chat template. Prints generated tokens/s of both and
the ratio, and how many greedy outputs are identical (fp32 batching with left padding is not bit-exact:
the ones that differ are listed). Writes bench/results/eval_generation.json.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from results import save_result  # noqa: E402


def prompts(n: int) -> list[str]:
    from mtsft import tasks
    from mtsft.datasets import real_eval_records
    from mtsft.eval.evaluate import last_prompt
    from mtsft.tasks.synth import synth_records

    builtin = synth_records(len(tasks.names()) * 8, seed=5, clean=True, eval_split=True)[: n // 2]
    general = [r for r in real_eval_records(["alpaca_en_demo", "alpaca_zh_demo"])][: n - len(builtin)]
    return [last_prompt(r) for r in builtin + general]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    args = ap.parse_args()

    import torch

    from mtsft.eval.generate import generate, render_prompts
    from mtsft.model import load_model, load_tokenizer

    model, tok = load_model("builtin", log=lambda *_: None), load_tokenizer("builtin", log=lambda *_: None)
    texts = render_prompts(tok, prompts(args.prompts))
    lengths = lambda outs: sum(len(tok(o, add_special_tokens=False)["input_ids"]) for o in outs)  # noqa: E731
    generate(model, tok, texts[:2], max_new_tokens=4, batch_size=2)  # warm-up: kernels, allocator
    batched, t_batched = timed(lambda: generate(model, tok, texts, max_new_tokens=args.max_new_tokens,
                                                batch_size=args.batch_size))
    single, t_single = timed(lambda: generate(model, tok, texts, max_new_tokens=args.max_new_tokens, batch_size=1))
    tokens_batched, tokens_single = lengths(batched), lengths(single)
    rate_b, rate_s = tokens_batched / t_batched, tokens_single / t_single
    same = [i for i in range(len(texts)) if batched[i] == single[i]]
    print(f"{len(texts)} prompts, {args.max_new_tokens} new tokens at most, {torch.get_num_threads()} threads")
    print(f"one at a time: {tokens_single} tokens in {t_single:.1f}s = {rate_s:.1f} tok/s")
    print(f"batch {args.batch_size}:      {tokens_batched} tokens in {t_batched:.1f}s = {rate_b:.1f} tok/s")
    print(f"speed-up {rate_b / rate_s:.2f}x (floor 4x, aim 8x); identical greedy outputs {len(same)}/{len(texts)} "
          f"({len(same) / len(texts):.0%})")
    differ = [i for i in range(len(texts)) if i not in set(same)]
    for i in differ:
        print(f"  differs #{i}: batched {batched[i][:60]!r} | single {single[i][:60]!r}")
    save_result("eval_generation", {
        "prompts": len(texts), "max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
        "threads": torch.get_num_threads(), "single_tokens_per_s": round(rate_s, 1),
        "batched_tokens_per_s": round(rate_b, 1), "speedup": round(rate_b / rate_s, 2),
        "identical": len(same), "differ": differ})


if __name__ == "__main__":
    main()
