"""A busy machine: one demo LoRA training step alone, then beside a competitor, in the same run.

    .venv/bin/python bench/bench_busy.py                          # the demo's step, mtsft's policy and the spinning default
    .venv/bin/python bench/bench_busy.py --policies passive       # mtsft's policy only
    .venv/bin/python bench/bench_busy.py --model tiny --records 40 --max-length 64 --steps 1 --no-save   # smoke

The step is the demo recipe's (`mtsft run --profile demo`: the built-in 135M model, LoRA r16 all-linear, batch
8, grouped batching, logits on trained tokens only, the precision `auto` picks), on a batch of the demo's own
training data (the synth suite plus the shipped real train slices): of one epoch's length-grouped batches, the
one with the median token count. Forward, backward and AdamW step, as the Trainer runs them.

The competitor is one CPU-bound process with one thread at the same priority (a Python busy loop, or with
`--competitor matmul` a one-thread numpy matmul loop). Each policy runs in its own child process, since the
OpenMP runtime reads its settings once, when torch loads:

- passive: what mtsft sets (`OMP_WAIT_POLICY=PASSIVE`, OMP_NUM_THREADS = the usable cores);
- spin:    OpenMP's default (no OMP_WAIT_POLICY: threads spin at every barrier before sleeping), the same
           thread count: what ran before mtsft set the policy;
- active:  `OMP_WAIT_POLICY=ACTIVE` (threads only spin).

Target (issue 29): beside the competitor, the step takes at most 2.5x its time alone, with mtsft's policy.
Figures go to bench/results/busy.json (`--name` changes it). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

POLICIES = {"passive": "PASSIVE", "spin": None, "active": "ACTIVE"}
COMPETITORS = {
    "loop": "while True:\n    pass\n",
    "matmul": "import numpy as np\na = np.random.rand(256, 256)\nwhile True:\n    a @ a\n",
}
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


# ---- the child: one policy, the step alone and beside the competitor ----------------------------------------

def demo_batch(args, tokenizer):
    """The demo's training batch with the median token count, collated as the Trainer gets it."""
    import random

    from mtsft.datasets import real_train_records
    from mtsft.records import task_of
    from mtsft.run import RunConfig
    from mtsft.tasks.synth import synth_records
    from mtsft.train.examples import Encoded
    from mtsft.train.packing import PackedCollator, length_grouped_rows

    run = RunConfig()
    cfg = run.train.model_copy(update={"model": args.model, "max_length": args.max_length or run.train.max_length})
    records = synth_records(run.n, seed=run.seed, langs=tuple(run.langs)) + real_train_records(per_set=run.real_per_set)
    records = random.Random(0).sample(records, min(args.records, len(records))) if args.records else records
    tasks = sorted({task_of(r) for r in records})
    encoded = Encoded(records, tokenizer, cfg, tasks)
    rows = length_grouped_rows([e for e in encoded.examples if e is not None], cfg.batch_size, random.Random(0))
    batches = [rows[i:i + cfg.batch_size] for i in range(0, len(rows), cfg.batch_size)]
    batches = [b for b in batches if len(b) == cfg.batch_size] or batches
    batches.sort(key=lambda b: sum(len(r["input_ids"]) for r in b))
    return cfg, PackedCollator(tokenizer.pad_token_id)(batches[len(batches) // 2])


def child(args) -> dict:
    policy = os.environ.get("OMP_WAIT_POLICY")  # as the parent set it, before `import mtsft` adds its default
    import torch  # first: the environment the parent set is what the OpenMP runtime reads

    from mtsft.model import load_tokenizer
    from mtsft.train.build import build_model
    from mtsft.train.method import resolve_precision
    from mtsft.train.trainer import token_losses

    torch.manual_seed(0)
    tokenizer = load_tokenizer(args.model, log=lambda *_: None)
    cfg, batch = demo_batch(args, tokenizer)
    precision = resolve_precision(cfg.precision)
    model = build_model(cfg, "lora", precision, log=lambda *_: None)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)

    def step() -> float:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            token_loss, _, _ = token_losses(model, batch, trained_only=cfg.lm_head_trained_only)
            loss = token_loss.sum() / max(1, token_loss.numel())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return time.perf_counter() - start

    step()  # warm-up: first-call allocations and kernel choices
    alone = [step() for _ in range(args.steps)]
    competitor = subprocess.Popen([sys.executable, "-c", COMPETITORS[args.competitor]],
                                  env={**os.environ, **ONE_THREAD})
    try:
        time.sleep(0.5)  # the competitor is running before the timed steps start
        beside = [step() for _ in range(args.steps)]
    finally:
        competitor.kill()
        competitor.wait()
    return {"policy": policy, "threads": torch.get_num_threads(), "torch": torch.__version__, "precision": precision,
            "batch": list(batch["input_ids"].shape), "tokens": int((batch["task_ids"] >= 0).sum()),
            "trained_tokens": int((batch["labels"] != -100).sum()),
            "alone_s": alone, "beside_s": beside,
            "ratio": round(statistics.median(beside) / statistics.median(alone), 2)}


# ---- the parent: one child per policy, the table, the result file ------------------------------------------

def run_policy(policy: str, args) -> dict:
    from mtsft import usable_cpus

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "MTSFT_THREADS")}
    env["OMP_NUM_THREADS"] = str(args.threads or usable_cpus())
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    if POLICIES[policy]:
        env["OMP_WAIT_POLICY"] = POLICIES[policy]
    cmd = [sys.executable, __file__, "--child", "--model", args.model, "--steps", str(args.steps),
           "--records", str(args.records), "--max-length", str(args.max_length), "--competitor", args.competitor]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{policy}: the child failed\n{proc.stderr[-4000:]}")
    return {"policy_name": policy, **json.loads(proc.stdout.strip().splitlines()[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="builtin", help="builtin (the demo's 135M model) or tiny (smoke runs)")
    ap.add_argument("--policies", default="passive,spin", help=f"comma-separated: {', '.join(POLICIES)}")
    ap.add_argument("--steps", type=int, default=3, help="timed steps alone and again beside the competitor")
    ap.add_argument("--records", type=int, default=0, help="draw the batch from this many demo records (0: all)")
    ap.add_argument("--max-length", type=int, default=0, help="truncate examples (0: the demo's max_length)")
    ap.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS (0: mtsft's default, the usable cores)")
    ap.add_argument("--competitor", choices=sorted(COMPETITORS), default="loop")
    ap.add_argument("--name", default="busy", help="result file bench/results/NAME.json")
    ap.add_argument("--no-save", action="store_true", help="print only (smoke runs)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return

    figures = []
    for policy in args.policies.split(","):
        r = run_policy(policy.strip(), args)
        figures.append(r)
        alone, beside = statistics.median(r["alone_s"]), statistics.median(r["beside_s"])
        print(f"{policy:8s} {r['threads']} threads, {r['precision']}, batch {r['batch'][0]}x{r['batch'][1]} "
              f"({r['tokens']} tokens): alone {alone:.2f} s, beside a one-thread {args.competitor} "
              f"{beside:.2f} s, ratio {r['ratio']:.2f}x", flush=True)
    mine = next((r for r in figures if r["policy_name"] == "passive"), None)
    if mine is not None:
        verdict = "met" if mine["ratio"] <= 2.5 else "NOT met"
        print(f"target (mtsft's policy, beside the competitor at most 2.5x alone): {verdict} ({mine['ratio']:.2f}x)")
    if not args.no_save:
        from results import save_result  # bench/results.py, beside this script

        save_result(args.name, {"model": args.model, "competitor": args.competitor, "steps": args.steps,
                                "target_ratio": 2.5, "policies": figures})


if __name__ == "__main__":
    main()
