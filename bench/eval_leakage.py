"""Eval leakage: how much of the held-out evaluation split's *content* already appears in training data.

    .venv/bin/python bench/eval_leakage.py                 # 100k training draws, 2400 eval records
    .venv/bin/python bench/eval_leakage.py --pool 20000    # faster
    .venv/bin/python bench/eval_leakage.py --synth-pool    # the pool as `mtsft data synth --clean` writes it

For every built-in task, the share of eval records (`synth_records(n, eval_split=True)`) whose content,
with digits masked, appears anywhere in a training pool. The pool is `--pool` training draws
(`generate(rng, lang, held_out=False)`, tasks in `synth.TASK_WEIGHTS` proportions, repeats allowed: a
training set of any size samples this distribution); with `--synth-pool` it is `synth_records(pool,
clean=True)` instead, which stops short of 100k because some tasks run out of distinct prompts (it warns).
Content is what a model could memorise instead of learning the task:
- math: the worked answer with digits masked (the problem's skeleton);
- classification: the text being classified (the template's `{t}` slot);
- reading_comprehension: the passage;
- every other task: the reference answer (last assistant turn).
Also prints the number of distinct content items (masked) seen in the pool and in the eval split.
Target: at most 5% per task. Saves `bench/results/eval_leakage.json`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
TARGET = 0.05


def mask(text: str) -> str:
    return " ".join(DIGITS.sub("#", text).split())


def _slot(record: dict, slot: str) -> str | None:
    """The text that filled `{slot}` in the record's instruction template, or None."""
    from mtsft.tasks import get

    task, template_id = get(record["task"]), record["meta"].get("template", "")
    lang, _, index = template_id.partition("-")
    try:
        template = task.templates[lang][int(index)]
    except (AttributeError, KeyError, ValueError, IndexError):
        return None
    pattern, pos = "", 0
    for m in re.finditer(r"\{(\w+)\}", template):
        pattern += re.escape(template[pos:m.start()])
        pattern += f"(?P<{slot}>.*)" if m.group(1) == slot and f"(?P<{slot}>" not in pattern else ".*?"
        pos = m.end()
    pattern += re.escape(template[pos:])
    user = next(m["content"] for m in record["messages"] if m["role"] == "user")
    found = re.fullmatch(pattern, user, re.S)
    return found.group(slot) if found and slot in found.groupdict() else None


def content(record: dict) -> str:
    task, ref = record["task"], record.get("reference") or {}
    if task == "reading_comprehension" and isinstance(ref, dict) and ref.get("passage"):
        return mask(ref["passage"])
    if task == "classification":
        text = (ref.get("text") if isinstance(ref, dict) else None) or _slot(record, "t")
        if text is not None:
            return mask(text)
    answer = [m["content"] for m in record["messages"] if m["role"] == "assistant"][-1]
    return mask(answer)


def training_draws(n: int, seed: int) -> list[dict]:
    """`n` training records (held_out=False) in synth's task proportions; repeats allowed."""
    import random

    from mtsft.tasks import get
    from mtsft.tasks.synth import TASK_WEIGHTS, _allocate

    order = [t for t, k in _allocate(n, TASK_WEIGHTS).items() for _ in range(k)]
    out = []
    for i, name in enumerate(order):
        rng = random.Random(f"pool-{seed}-{i}")
        out.append(get(name).generate(rng, rng.choice(("zh", "en")), held_out=False))
    return out


def measure(pool_n: int, eval_n: int, seed: int = 0, synth_pool: bool = False) -> dict:
    from mtsft.tasks.synth import synth_records

    t0 = time.perf_counter()
    pool = synth_records(pool_n, seed=seed + 1, clean=True) if synth_pool else training_draws(pool_n, seed + 1)
    t_pool = time.perf_counter() - t0
    evals = synth_records(eval_n, seed=seed, eval_split=True)
    seen: dict[str, set] = defaultdict(set)
    for r in pool:
        seen[r["task"]].add(content(r))
    all_seen = set().union(*seen.values())
    per_task: dict[str, dict] = {}
    by_task: dict[str, list] = defaultdict(list)
    for r in evals:
        by_task[r["task"]].append(content(r))
    for task in sorted(set(seen) | set(by_task)):
        items = by_task.get(task, [])
        leaked = sum(c in all_seen for c in items)  # anywhere in the pool, any task
        per_task[task] = {"eval_records": len(items), "leaked": leaked,
                          "leak_rate": round(leaked / len(items), 4) if items else None,
                          "distinct_eval_content": len(set(items)), "distinct_pool_content": len(seen[task]),
                          "pool_records": sum(1 for r in pool if r["task"] == task)}
    return {"pool": len(pool), "pool_asked": pool_n, "pool_kind": "synth_records" if synth_pool else "training draws",
            "eval": len(evals), "eval_asked": eval_n,
            "pool_seconds": round(t_pool, 1), "target": TARGET, "tasks": per_task,
            "max_leak_rate": max((v["leak_rate"] or 0) for v in per_task.values()),
            "passes": all((v["leak_rate"] or 0) <= TARGET for v in per_task.values())}


def print_table(result: dict) -> None:
    print(f"training pool: {result['pool']} records ({result['pool_kind']}, {result['pool_seconds']} s); "
          f"eval split: {result['eval']} records")
    print(f"{'task':<24}{'eval':>6}{'leaked':>8}{'rate':>8}{'distinct eval':>15}{'distinct pool':>15}")
    for task, v in result["tasks"].items():
        rate = "-" if v["leak_rate"] is None else f"{100 * v['leak_rate']:.1f}%"
        flag = "" if (v["leak_rate"] or 0) <= TARGET else "  > 5%"
        print(f"{task:<24}{v['eval_records']:>6}{v['leaked']:>8}{rate:>8}{v['distinct_eval_content']:>15}"
              f"{v['distinct_pool_content']:>15}{flag}")
    print(f"max leak rate {100 * result['max_leak_rate']:.1f}% (target <= {100 * TARGET:.0f}%): "
          f"{'PASS' if result['passes'] else 'FAIL'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=100_000, help="training pool size (records)")
    parser.add_argument("--eval", type=int, default=2400, help="eval split size (records)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synth-pool", action="store_true", help="pool from synth_records (distinct prompts only)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.pool, args.eval, args.seed, args.synth_pool)
    print_table(result)
    if not args.no_save:
        from results import save_result

        save_result("eval_leakage", result)
    return 0 if result["passes"] else 1


if __name__ == "__main__":
    sys.exit(main())
