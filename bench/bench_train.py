"""Training throughput: (A) TRL's SFTTrainer with its best switches on this CPU vs (B) `mtsft train`
defaults, same model, data, trained tokens and LoRA, one process, one after the other, same threads.
Also measures this machine's matmul peaks for MFU. Writes bench/results/train_vs_trl.json.

    .venv/bin/python bench/bench_train.py --threads 2          # 16 alpaca examples, batch 8, LoRA r16, 1 round
    .venv/bin/python bench/bench_train.py --threads 2 --trl-configs packed-fp32,packed-bf16 \
        --variants defaults "max_batch_tokens=null"            # fp32 vs bf16 for TRL; mtsft budget on/off

A: SFTTrainer given its best switches on CPU: gradient checkpointing off (TRL's SFTConfig turns it on by
   default), packing on with padding-free (`packing=True, packing_strategy="bfd", padding_free=True`: whole
   examples packed into rows of `max_length`, each batch flattened into one sequence with restarting
   position ids and no attention mask), completion-only loss (prompt/completion data), LoRA r16 all-linear,
   in bf16 autocast (timed faster than fp32 for TRL here: bench/results/train_vs_trl_precision.json; add
   `packed-fp32` to --trl-configs to retime). `padded-bf16` is the same without packing/padding-free (padded
   to each batch's longest), which measured faster than packing on CPU: SDPA gets a dense block-diagonal
   mask over the whole flattened batch, quadratic in its length. The fastest configuration is "TRL's best".
   TRL documents padding-free as FlashAttention-only; on CPU SDPA transformers builds the block-diagonal
   mask from the position ids (no attention mask is passed), so packed examples do not attend to each
   other (check_padding_free below verifies it on the same model before timing anything).
B: `mtsft train` with its defaults (precision auto, batching auto (grouped on CPU), logits on trained tokens
   only, no gradient checkpointing, token-budget micro-batches), same LoRA, batch size and max length.
   --variants adds other override sets (e.g. "max_batch_tokens=null" for the budget off).
--rounds N repeats A and B interleaved (each A configuration, then each B, then again) and keeps each one's best rate,
so a busy machine's noise hits both sides alike.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
from results import DATASETS, save_result  # noqa: E402

ALPACA = DATASETS / "alpaca_en_demo.jsonl"
LORA = {"r": 16, "lora_alpha": 32, "target_modules": "all-linear"}


def alpaca_records(n: int) -> list[dict]:
    out = []
    with open(ALPACA, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if len(out) == n:
                break
            row = json.loads(line)
            prompt = row["instruction"] + (("\n\n" + row["input"]) if row.get("input") else "")
            out.append({"id": str(i), "task": "alpaca", "lang": "en", "source": f"{ALPACA.name}:{i + 1}",
                        "reference": None, "meta": {},
                        "messages": [{"role": "user", "content": prompt},
                                     {"role": "assistant", "content": row["output"]}]})
    return out


def matmul_peak(dtype, threads: int, size: int = 2048, reps: int = 10) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(2):
        a @ b
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 * reps / best


class _Captured(logging.Handler):
    """Keeps TRL's and transformers' warnings so the report can show what TRL said about padding-free."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage().splitlines()[0][:200])


def trl_trainer(records, args, tmp: str, bf16: bool, packed: bool):
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from mtsft.model import load_model, load_tokenizer

    tokenizer = load_tokenizer("builtin", log=lambda *_: None)
    data = Dataset.from_list([{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in records])
    cfg = SFTConfig(output_dir=tmp, per_device_train_batch_size=args.batch_size, max_length=args.max_length,
                    num_train_epochs=1, learning_rate=2e-4, bf16=bf16, fp16=False,
                    activation_checkpointing=False, packing=packed, packing_strategy="bfd", padding_free=packed,
                    completion_only_loss=True, use_cpu=True, report_to=[], save_strategy="no", logging_steps=1,
                    seed=0, disable_tqdm=True, dataloader_num_workers=0)
    peft = LoraConfig(task_type="CAUSAL_LM", **LORA)
    return SFTTrainer(model=load_model("builtin", log=lambda *_: None), args=cfg, train_dataset=data,
                      processing_class=tokenizer, peft_config=peft)


def dataset_tokens(ds) -> tuple[int, int]:
    """Non-padding tokens and trained tokens (labelled tokens that are a target: not an example's first)."""
    tokens = sum(len(x) for x in ds["input_ids"])
    trained = 0
    seq_lengths = ds["seq_lengths"] if "seq_lengths" in ds.column_names else [[len(x)] for x in ds["input_ids"]]
    for labels, lengths in zip(ds["labels"], seq_lengths):
        start = 0
        for n in lengths:  # each packed example's first token is no target (nothing precedes it)
            trained += sum(1 for x in labels[start + 1:start + n] if x != -100)
            start += n
    return tokens, trained


def check_padding_free(trainer) -> float:
    """Largest gap between each example's loss alone and in TRL's flattened padding-free batch: ~0 when
    the examples of a packed batch do not attend to each other."""
    batch = next(iter(trainer.get_train_dataloader()))
    model = trainer.model.eval()
    starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist() + [batch["input_ids"].shape[1]]
    with torch.no_grad():
        flat = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"]).logits[0].float()
        worst = 0.0
        for s, e in list(zip(starts, starts[1:]))[:4]:
            alone = model(input_ids=batch["input_ids"][:, s:e]).logits[0].float()
            worst = max(worst, float((alone - flat[s:e]).abs().max()))
    model.train()
    return worst


def run_trl(records, args, bf16: bool, packed: bool, check: bool = False) -> dict:
    handler = _Captured()
    loggers = [logging.getLogger(n) for n in ("trl", "transformers")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        torch.set_num_threads(args.threads)
        with tempfile.TemporaryDirectory() as tmp:
            trainer = trl_trainer(records, args, tmp, bf16, packed)
            tokens, trained = dataset_tokens(trainer.train_dataset)
            gap = check_padding_free(trainer) if check and packed else None
            out = trainer.train()
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    return {"seconds": out.metrics["train_runtime"], "tokens": tokens, "trained": trained,
            "steps": trainer.state.global_step, "gc": trainer.args.activation_checkpointing,
            "padding_free": trainer.padding_free, "cross_example_gap": gap,
            "warnings": sorted(set(handler.lines))}


def run_mtsft(records, args, overrides: list[str]) -> dict:
    from mtsft.records import write_jsonl
    from mtsft.train.config import load_train_config
    from mtsft.train.loop import train

    with tempfile.TemporaryDirectory() as tmp:
        write_jsonl(Path(tmp) / "data.jsonl", records)
        cfg = load_train_config(None, [
            "model=builtin", "method=lora", f"data={tmp}/data.jsonl", f"out={tmp}/run", "epochs=1",
            f"batch_size={args.batch_size}", f"max_length={args.max_length}", f"lora.r={LORA['r']}",
            "eval.fraction=0", "report_to=[]", "save_steps=100000", "logging_steps=1",
            f"threads={args.threads}", "warmup_ratio=0", *overrides])
        info = train(cfg, log=lambda *_: None)
    m = info["metrics"]
    return {"seconds": m["trainer_seconds"], "tokens": m["tokens"], "trained": m["trained_tokens"],
            "precision": info["precision"], "batching": cfg.batching, "max_batch_tokens": cfg.max_batch_tokens}


def train_flops(tokens: int, trained: int, mean_len: float, model) -> float:
    """FLOPs a LoRA step needs: forward 2*P per token through the frozen body, backward the same again
    (input gradients only: frozen weights need no weight gradients; LoRA's own are negligible),
    causal attention 2*L*d per layer per token each way, and the LM head only on trained tokens."""
    c = model.config
    d, layers, vocab = c.hidden_size, c.num_hidden_layers, c.vocab_size
    body = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and p.dim() == 2)
    per_token = 2 * 2 * body + 2 * 2 * layers * mean_len * d
    return tokens * per_token + trained * 2 * 2 * d * vocab


def rates(r: dict) -> dict:
    return {"tokens": r["tokens"], "trained_tokens": r["trained"], "seconds": round(r["seconds"], 2),
            "tokens_per_s": round(r["tokens"] / r["seconds"], 1),
            "trained_tokens_per_s": round(r["trained"] / r["seconds"], 1)}


def best_of(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--rounds", type=int, default=1, help="A and B interleaved this many times; best of each kept")
    ap.add_argument("--trl-configs", default="packed-bf16,padded-bf16",
                    help="TRL configurations to time (packed|padded)-(fp32|bf16); the fastest is TRL's best")
    ap.add_argument("--variants", nargs="*", default=["defaults"],
                    help='mtsft override sets, each "key=value key=value" ("defaults": none); the first is B')
    args = ap.parse_args()

    records = alpaca_records(args.examples)
    peaks = {"bf16": matmul_peak(torch.bfloat16, args.threads), "fp32": matmul_peak(torch.float32, args.threads)}
    print(f"matmul peak ({args.threads} threads): bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s, "
          f"fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s", flush=True)

    precisions = args.trl_configs.split(",")
    variants = {v: [] if v == "defaults" else v.split() for v in args.variants}
    trl_runs: dict[str, list[dict]] = {p: [] for p in precisions}
    mtsft_runs: dict[str, list[dict]] = {v: [] for v in variants}
    for rnd in range(args.rounds):
        for p in precisions:
            r = run_trl(records, args, bf16=p.endswith("bf16"), packed=p.startswith("packed"), check=rnd == 0)
            trl_runs[p].append(r)
            print(f"[round {rnd + 1}] A  TRL {p}, gc={r['gc']}, padding_free={r['padding_free']}: "
                  f"{r['tokens']} tokens ({r['trained']} trained), {r['steps']} steps in {r['seconds']:.1f}s = "
                  f"{r['tokens'] / r['seconds']:.1f} tok/s, {r['trained'] / r['seconds']:.1f} trained tok/s", flush=True)
            if r["cross_example_gap"] is not None:
                print(f"    padding-free check: max |logit alone - logit in the flattened batch| = "
                      f"{r['cross_example_gap']:.2e} (no attention across packed examples)", flush=True)
            for w in r["warnings"]:
                print(f"    TRL/transformers warning: {w}", flush=True)
        for v, overrides in variants.items():
            b = run_mtsft(records, args, overrides)
            mtsft_runs[v].append(b)
            print(f"[round {rnd + 1}] B  mtsft {v} ({b['precision']}, {b['batching']}, max_batch_tokens="
                  f"{b['max_batch_tokens']}): {b['tokens']} tokens ({b['trained']} trained) in {b['seconds']:.1f}s = "
                  f"{b['tokens'] / b['seconds']:.1f} tok/s, {b['trained'] / b['seconds']:.1f} trained tok/s", flush=True)

    trl_best = {p: best_of(rs) for p, rs in trl_runs.items()}
    winner = min(trl_best, key=lambda p: trl_best[p]["seconds"])
    a = trl_best[winner]
    a_rate, a_trained_rate = a["tokens"] / a["seconds"], a["trained"] / a["seconds"]

    from mtsft.model import load_model

    model = load_model("builtin", log=lambda *_: None)
    mean_len = a["tokens"] / len(records)
    print(f"TRL's best: {winner} ({a_rate:.1f} tok/s, {a_trained_rate:.1f} trained tok/s)")
    result = {"examples": len(records), "batch_size": args.batch_size, "max_length": args.max_length,
              "threads": args.threads, "rounds": args.rounds, "lora": LORA,
              "matmul_gflops": {k: round(v / 1e9) for k, v in peaks.items()},
              "trl": {"switches": {"gradient_checkpointing": False, "completion_only_loss": True,
                                   "packed": {"packing": True, "packing_strategy": "bfd", "padding_free": True},
                                   "padded": {"packing": False, "padding_free": False}},
                      "padding_free_max_logit_gap": next((r["cross_example_gap"] for rs in trl_runs.values() for r in rs
                                                         if r["cross_example_gap"] is not None), None),
                      "warnings": sorted({w for rs in trl_runs.values() for r in rs for w in r["warnings"]}),
                      "by_config": {p: rates(r) for p, r in trl_best.items()}, "best": winner},
              "mtsft": {}}
    for v, rs in mtsft_runs.items():
        b = best_of(rs)
        rate, trained_rate = b["tokens"] / b["seconds"], b["trained"] / b["seconds"]
        flops = train_flops(b["tokens"], b["trained"], mean_len, model) / b["seconds"]
        print(f"B  mtsft {v} ({b['precision']}): {rate:.1f} tok/s, {trained_rate:.1f} trained tok/s | "
              f"vs TRL's best: {rate / a_rate:.2f}x tokens/s, {trained_rate / a_trained_rate:.2f}x trained tokens/s | "
              f"{flops / 1e9:.0f} GFLOP/s = MFU {100 * flops / peaks['bf16']:.0f}% of bf16 peak, "
              f"{100 * flops / peaks['fp32']:.0f}% of fp32 peak", flush=True)
        result["mtsft"][v] = {"precision": b["precision"], "batching": b["batching"],
                              "max_batch_tokens": b["max_batch_tokens"], **rates(b),
                              "ratio_vs_trl_best": round(rate / a_rate, 2),
                              "trained_ratio_vs_trl_best": round(trained_rate / a_trained_rate, 2)}
    save_result("train_vs_trl", result)


if __name__ == "__main__":
    sys.exit(main())
