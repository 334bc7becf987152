"""The crosstalk judge on real model outputs labelled by hand.

Two sets of 100 outputs of `mtsft eval run` (the embedded 135M model), each output read by a person and
labelled with the task it performs, without seeing the judge's verdict:

    bench/data/judge_hand_labels_v1.jsonl  the dev set: base and tuned, built-in and real suites, from a demo
                                           run and a one-task (translation) LoRA run. Its misses led to the
                                           judge's "no task" rule, so it is no longer a test.
    bench/data/judge_hand_labels_v2.jsonl  the test set: base and tuned outputs of a second one-task LoRA run
                                           (other prompts), labelled and committed before the judge was run
                                           on it; never tuned on.

Labels:

    performed == intended   the output attempts the asked task (right or wrong: a wrong sum is still math)
    performed == "none"     the output performs no task (an echo of the prompt, degenerate repetition,
                            garbled text): a failure of the asked task, not crosstalk
    anything else           crosstalk: the output performs that other task

The judge has no "none" class, so what matters for diagnosis is its *crossed* decision (performed task
differs from the intended one at confidence >= the diagnosis threshold). This prints crossed-detection
accuracy overall and by hand label, recall on the crossed outputs (and whether the judge named the same
task), and false alarms on clean and on no-task outputs. Nothing here is tuned on: it is a check.

    python bench/judge_hand_labels.py                 # the test set (v2)
    python bench/judge_hand_labels.py --dev           # the dev set (v1)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import save_result  # noqa: E402

from mtsft.diagnose.config import CrosstalkConfig  # noqa: E402
from mtsft.eval.judge import judge_many  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
TEST, DEV = DATA / "judge_hand_labels_v2.jsonl", DATA / "judge_hand_labels_v1.jsonl"


def kind(row: dict) -> str:
    if row["performed"] == row["intended"]:
        return "clean"
    return "no task" if row["performed"] == "none" else "crossed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", action="store_true", help="measure on the dev set (v1) instead of the test set")
    args = parser.parse_args()
    labels = DEV if args.dev else TEST
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    verdicts = judge_many([(r["prompt"], r["output"]) for r in rows], [r["intended"] for r in rows])
    floor = CrosstalkConfig().min_confidence
    by_kind: dict[str, Counter] = {}
    misses = []
    for row, v in zip(rows, verdicts):
        said_crossed = v.crossed and v.confidence >= floor
        truth = kind(row)
        right = said_crossed == (truth == "crossed")
        c = by_kind.setdefault(truth, Counter())
        c["n"] += 1
        c["right"] += right
        c["same_task"] += truth == "crossed" and v.performed_task == row["performed"]
        if not right:
            misses.append({"id": row["id"], "intended": row["intended"], "hand": row["performed"],
                           "judge": v.performed_task, "confidence": round(v.confidence, 2), "note": row["note"]})
    total = sum(c["n"] for c in by_kind.values())
    result = {"set": labels.name, "n": total, "accuracy": sum(c["right"] for c in by_kind.values()) / total,
              "by_label": {k: {"n": c["n"], "accuracy": c["right"] / c["n"],
                               **({"same_task": c["same_task"] / c["n"]} if k == "crossed" else {})}
                           for k, c in sorted(by_kind.items())},
              "misses": misses}
    print(f"crossed-or-not accuracy on {total} hand-labelled outputs: {result['accuracy']:.1%}")
    for k, r in result["by_label"].items():
        extra = f", judge named the hand-labelled task on {r['same_task']:.0%}" if "same_task" in r else ""
        print(f"  {k:8s} n={r['n']:3d}  right {r['accuracy']:.1%}{extra}")
    for m in misses:
        print(f"  miss {m['id']}: asked {m['intended']}, hand {m['hand']}, judge {m['judge']} ({m['confidence']}) - {m['note']}")
    save_result("judge_hand_labels" + ("_dev" if args.dev else ""), result)


if __name__ == "__main__":
    main()
