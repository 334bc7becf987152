"""Eval generation in fp32 and in bf16 on the same prompts: speed, identical answers, and the score change
with its paired interval (what `eval.precision: auto` trades when it picks bf16).

    python bench/bench_eval_precision.py                   # 96 built-in prompts (8 a task), the demo's cap
    python bench/bench_eval_precision.py --per-task 24

Both runs use the eval path of `mtsft run` (running batch, the demo's answer caps, 2 threads by default),
with the base model. Figures go to bench/results/eval_precision.json. Time it alone on the machine.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-task", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1000, help="the built-in draw (1000: not the demo's eval draw)")
    args = ap.parse_args()

    import mtsft  # noqa: F401  (thread count and wait policy before torch loads)
    import torch

    from mtsft.diagnose.stats import paired_mean_diff
    from mtsft.eval.evaluate import generate_answers, score_answers
    from mtsft.model import load_for_inference
    from mtsft.run import RunConfig
    from mtsft.tasks.synth import synth_records
    from results import save_result

    records = synth_records(args.per_task * 12, seed=args.seed, clean=True, eval_split=True)
    records = [{**r, "meta": {**(r.get("meta") or {}), "suite": "builtin"}} for r in records]
    cfg = RunConfig().eval.model_copy(update={"model": "builtin", "progress": False})
    model, tokenizer = load_for_inference("builtin", None, log=lambda *a, **k: None)
    runs = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        model = model.to(dtype)
        generate_answers(model, tokenizer, records[:2], cfg, "none")   # warm-up
        start = time.perf_counter()
        answers = generate_answers(model, tokenizer, records, cfg, "none")
        seconds = time.perf_counter() - start
        tokens = sum(len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
        rows, _ = score_answers(records, answers, cfg)
        runs[name] = {"seconds": round(seconds, 1), "tokens": tokens, "tokens_per_s": round(tokens / seconds, 1),
                      "answers": answers, "scores": [r["score"] for r in rows]}
        print(f"{name}: {len(records)} prompts in {seconds:.1f} s, {tokens / seconds:.1f} tok/s, "
              f"mean score {sum(runs[name]['scores']) / len(rows):.3f}", flush=True)
    same = sum(a == b for a, b in zip(runs["fp32"]["answers"], runs["bf16"]["answers"]))
    delta, ci = paired_mean_diff(runs["fp32"]["scores"], runs["bf16"]["scores"])
    speedup = runs["bf16"]["tokens_per_s"] / runs["fp32"]["tokens_per_s"]
    print(f"bf16 / fp32: {speedup:.2f}x tok/s; identical answers {same}/{len(records)}; "
          f"score change {delta:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}] (paired, prompts resampled)")
    save_result("eval_precision", {
        "prompts": len(records), "threads": torch.get_num_threads(), "max_new_tokens": cfg.max_new_tokens,
        "speedup": round(speedup, 2), "identical": same, "score_change": round(delta, 4),
        "score_change_ci": [round(x, 4) for x in ci],
        **{name: {k: v for k, v in r.items() if k not in ("answers", "scores")} for name, r in runs.items()}})


if __name__ == "__main__":
    main()
