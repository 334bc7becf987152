"""LoRA vs full fine-tuning on the same data, side by side: trainable share, peak memory, tokens/s,
and per-task eval loss (and, with --score, per-task verifier scores of greedy answers).

    .venv/bin/python bench/bench_lora_vs_full.py --records 200 --max-steps 20
    .venv/bin/python bench/bench_lora_vs_full.py --model tiny --records 60 --max-steps 4   # smoke

Each method runs in its own subprocess (`mtsft train`), so peak memory is that run's own. This is the
measured basis of `method: auto` (src/mtsft/train/method.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from results import save_result

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def synth_file(path: Path, n: int, seed: int) -> Path:
    from mtsft.records import write_jsonl
    from mtsft.tasks.synth import synth_records

    write_jsonl(path, synth_records(n, seed=seed, clean=True))
    return path


def run_method(method: str, data: Path, out: Path, args) -> dict:
    lr = "2e-4" if method == "lora" else "2e-5"
    sets = [f"method={method}", f"lr={lr}", f"model={args.model}", f"max_steps={args.max_steps}",
            "report_to=[]", "save_steps=100000", "eval.fraction=0.1", f"max_length={args.max_length}"]
    cmd = [sys.executable, "-m", "mtsft", "train", "--data", str(data), "--out", str(out)]
    cmd += [a for s in sets for a in ("--set", s)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{method} run failed:\n{proc.stderr[-3000:]}")
    return json.loads((out / "run.json").read_text())


def score_tasks(run: Path, data: Path, limit: int) -> dict[str, float]:
    """Mean verifier score per task of greedy answers on the held-out split (first `limit` per task)."""
    from collections import defaultdict

    from mtsft import tasks
    from mtsft.eval.generate import generate, render_prompts
    from mtsft.model import load_model, load_tokenizer
    from mtsft.records import read_records, response
    from mtsft.export import export_run

    merged = export_run(run, run / "merged", log=lambda *_: None)
    model, tok = load_model(str(merged), log=lambda *_: None), load_tokenizer(str(merged), log=lambda *_: None)
    by_task = defaultdict(list)
    for r in read_records(data):
        if len(by_task[r["task"]]) < limit:
            by_task[r["task"]].append(r)
    out = {}
    for task, recs in sorted(by_task.items()):
        prompts = render_prompts(tok, [r["messages"][:-1] for r in recs])
        answers = generate(model, tok, prompts, max_new_tokens=128, batch_size=8)
        out[task] = sum(tasks.get(task).score(a, r) for a, r in zip(answers, recs)) / len(recs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="builtin")
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--max-steps", type=int, default=20)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--score", type=int, default=0, help="score N held-out answers per task (slow)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = synth_file(tmp / "train.jsonl", args.records, seed=0)
        results = {m: run_method(m, data, tmp / m, args) for m in ("lora", "full")}
        scores = {}
        if args.score:
            held = synth_file(tmp / "held.jsonl", 12 * args.score * 2, seed=1)
            scores = {m: score_tasks(tmp / m, held, args.score) for m in results}

    print(f"{'':28}{'LoRA':>14}{'full':>14}")
    rows = [("trainable share", lambda r: f"{100 * r['params']['trainable_share']:.2f}%"),
            ("trainable params", lambda r: f"{r['params']['trainable']:,}"),
            ("peak memory (MB)", lambda r: f"{r['metrics']['peak_memory_mb']:,.0f}"),
            ("tokens/s", lambda r: f"{r['metrics']['tokens_per_s']:.1f}"),
            ("s per 1k tokens", lambda r: f"{r['metrics']['sec_per_1k_tokens']:.2f}"),
            ("final train loss", lambda r: f"{r['metrics']['final_loss']:.4f}")]
    for name, get in rows:
        print(f"{name:28}{get(results['lora']):>14}{get(results['full']):>14}")
    evals = sorted({k for r in results.values() for s in r["stages"].values() for k in s.get("eval", {})})
    for key in evals:
        vals = [next(iter(r["stages"].values()))["eval"].get(key) for r in results.values()]
        print(f"{key:28}" + "".join(f"{v:>14.4f}" if v is not None else f"{'-':>14}" for v in vals))
    for task in sorted(scores.get("lora", {})):
        print(f"{'score ' + task:28}{scores['lora'][task]:>14.3f}{scores['full'][task]:>14.3f}")
    save_result("lora_vs_full", {"model": args.model, "records": args.records, "max_steps": args.max_steps,
                                 "runs": {m: {"params": r["params"], "metrics": r["metrics"]} for m, r in results.items()},
                                 "scores": scores})


if __name__ == "__main__":
    main()
