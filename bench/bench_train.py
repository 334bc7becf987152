"""Training throughput: (A) plain TRL SFTTrainer vs (B) `mtsft train` defaults, same model, data and
trained tokens, one process, one after the other. Also measures this machine's matmul peaks for MFU.

    .venv/bin/python bench/bench_train.py                      # 40 alpaca examples, batch 8, LoRA r16
    .venv/bin/python bench/bench_train.py --examples 16 --variants auto   # quicker

A: SFTTrainer with TRL's defaults except: fp32, no packing, no padding-free (pads to the longest in each
   batch), completion-only loss (prompt/completion data), LoRA r16 all-linear. TRL's default
   gradient checkpointing stays on (that is what a plain TRL run does); --baseline-no-gc turns it off.
B: `mtsft train` with its defaults (precision auto, batching auto (grouped on CPU), logits on trained tokens only,
   no gradient checkpointing), same LoRA, batch size and max length. --variants adds other batchings.
"""

from __future__ import annotations

import argparse
import json
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


def run_baseline(records, args) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from mtsft.model import load_model, load_tokenizer

    torch.set_num_threads(args.threads)
    tokenizer = load_tokenizer("builtin", log=lambda *_: None)
    data = Dataset.from_list([{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in records])
    with tempfile.TemporaryDirectory() as tmp:
        cfg = SFTConfig(output_dir=tmp, per_device_train_batch_size=args.batch_size, max_length=args.max_length,
                        num_train_epochs=1, learning_rate=2e-4, bf16=False, fp16=False, packing=False,
                        padding_free=False, use_cpu=True, report_to=[], save_strategy="no", logging_steps=1,
                        seed=0, disable_tqdm=True,
                        **({"activation_checkpointing": False} if args.baseline_no_gc else {}))
        peft = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
        trainer = SFTTrainer(model=load_model("builtin", log=lambda *_: None), args=cfg, train_dataset=data,
                             processing_class=tokenizer, peft_config=peft)
        ds = trainer.train_dataset
        tokens = sum(min(len(x), args.max_length) for x in ds["input_ids"])
        trained = sum(sum(1 for x in lab[1:args.max_length] if x != -100) for lab in ds["labels"])
        out = trainer.train()
    return {"seconds": out.metrics["train_runtime"], "tokens": tokens, "trained": trained,
            "steps": trainer.state.global_step, "gc": cfg.activation_checkpointing}


def run_mtsft(records, args, batching: str) -> dict:
    from mtsft.records import write_jsonl
    from mtsft.train.config import load_train_config
    from mtsft.train.loop import train

    with tempfile.TemporaryDirectory() as tmp:
        write_jsonl(Path(tmp) / "data.jsonl", records)
        cfg = load_train_config(None, [
            "model=builtin", "method=lora", f"data={tmp}/data.jsonl", f"out={tmp}/run", "epochs=1",
            f"batch_size={args.batch_size}", f"max_length={args.max_length}", f"batching={batching}",
            "eval.fraction=0", "report_to=[]", "save_steps=100000", "logging_steps=1",
            f"threads={args.threads}", "warmup_ratio=0"])
        info = train(cfg, log=lambda *_: None)
    m = info["metrics"]
    return {"seconds": m["trainer_seconds"], "tokens": m["tokens"], "trained": m["trained_tokens"],
            "precision": info["precision"], "batching": batching}


def train_flops(tokens: int, trained: int, mean_len: float, model) -> float:
    """FLOPs a LoRA step needs: forward 2*P per token through the frozen body, backward the same again
    (input gradients only: frozen weights need no weight gradients; LoRA's own are negligible),
    causal attention 2*L*d per layer per token each way, and the LM head only on trained tokens."""
    c = model.config
    d, layers, vocab = c.hidden_size, c.num_hidden_layers, c.vocab_size
    body = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and p.dim() == 2)
    per_token = 2 * 2 * body + 2 * 2 * layers * mean_len * d
    return tokens * per_token + trained * 2 * 2 * d * vocab


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--variants", default="auto,packed", help="B batchings to run (first is the default)")
    ap.add_argument("--baseline-no-gc", action="store_true", help="turn TRL's default gradient checkpointing off in A")
    args = ap.parse_args()

    records = alpaca_records(args.examples)
    peaks = {"bf16": matmul_peak(torch.bfloat16, args.threads), "fp32": matmul_peak(torch.float32, args.threads)}
    print(f"matmul peak ({args.threads} threads): bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s, "
          f"fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s", flush=True)

    a = run_baseline(records, args)
    a_rate = a["tokens"] / a["seconds"]
    print(f"A  TRL SFTTrainer fp32, padded, gc={a['gc']}: {a['tokens']} tokens ({a['trained']} trained) "
          f"in {a['seconds']:.1f}s = {a_rate:.1f} non-padding tok/s, {a['trained'] / a['seconds']:.1f} trained tok/s",
          flush=True)

    from mtsft.model import load_model

    model = load_model("builtin", log=lambda *_: None)
    mean_len = a["tokens"] / len(records)
    figures = {"examples": len(records), "threads": args.threads, "matmul_gflops": {k: round(v / 1e9) for k, v in peaks.items()},
               "baseline_trl": {"tokens_per_s": round(a_rate, 1), "gradient_checkpointing": a["gc"]}, "mtsft": {}}
    for i, batching in enumerate(args.variants.split(",")):
        b = run_mtsft(records, args, batching)
        rate = b["tokens"] / b["seconds"]
        flops = train_flops(b["tokens"], b["trained"], mean_len, model) / b["seconds"]
        label = "B " if i == 0 else "B'"
        print(f"{label} mtsft ({b['precision']}, {batching}): {b['tokens']} tokens ({b['trained']} trained) in "
              f"{b['seconds']:.1f}s = {rate:.1f} non-padding tok/s, {b['trained'] / b['seconds']:.1f} trained tok/s | "
              f"B/A {rate / a_rate:.2f}x | {flops / 1e9:.0f} GFLOP/s = MFU {100 * flops / peaks['bf16']:.0f}% of "
              f"bf16 peak, {100 * flops / peaks['fp32']:.0f}% of fp32 peak", flush=True)
        figures["mtsft"][batching] = {"precision": b["precision"], "tokens_per_s": round(rate, 1),
                                      "ratio_vs_trl": round(rate / a_rate, 2)}
    save_result("train_throughput", figures)


if __name__ == "__main__":
    sys.exit(main())
