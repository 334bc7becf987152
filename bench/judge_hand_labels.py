"""The crosstalk judge on real model outputs labelled by hand.

Two sets of 100 outputs of `mtsft eval run` (the embedded 135M model), each output read by a person and
labelled with the task it performs, without seeing the judge's verdict:

    bench/data/judge_hand_labels_v1.jsonl  a dev set: base and tuned, built-in and real suites, from a demo
                                           run and a one-task (translation) LoRA run. Its misses led to the
                                           judge's "no task" rule.
    bench/data/judge_hand_labels_v2.jsonl  a dev set since issue 28 (the test set before): base and tuned
                                           outputs of a second one-task LoRA run (other prompts). The judge's
                                           weak outputs and bars (`judge.model.CROSS_BAR`) were chosen on v1
                                           and v2.
    bench/data/judge_hand_labels_v3.jsonl  the test set (issue 28): 156 outputs of `mtsft eval run` of the
                                           embedded model, base and a 12-step multi-task LoRA, zh and en, all
                                           12 built-in tasks, on a held-out synth draw (seed 23); labelled and
                                           committed (sha256 in the commit message) before any judge change,
                                           measured on once.

Labels:

    performed == intended   the output attempts the asked task (right or wrong: a wrong sum is still math)
    performed == "none"     the output performs no task (an echo of the prompt, degenerate repetition,
                            garbled text): a failure of the asked task, not crosstalk
    anything else           crosstalk: the output performs that other task

What matters for diagnosis is the judge's *crossed* decision (`Verdict.crossed` at confidence >= the
diagnosis threshold). This prints the four figures issue 28 sets targets for: crossed-or-not accuracy
(an abstention, a verdict with no task named, counts as wrong), the share abstained, and false alarms on
clean and on no-task outputs; then accuracy by hand label, recall on the crossed outputs (and whether the
judge named the same task), and each miss.

    python bench/judge_hand_labels.py                 # the test set (v3)
    python bench/judge_hand_labels.py --set v1        # a dev set (v1 or v2)
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
SETS = ("v1", "v2", "v3")
TEST = "v3"
ABSTAINED = ("", "abstain", "unsure")   # a verdict that names no task (the judge may decline to decide)


def kind(row: dict) -> str:
    if row["performed"] == row["intended"]:
        return "clean"
    return "no task" if row["performed"] == "none" else "crossed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=SETS, default=TEST, help="which hand-labelled set (v3: the test set)")
    args = parser.parse_args()
    labels = DATA / f"judge_hand_labels_{args.set}.jsonl"
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    verdicts = judge_many([(r["prompt"], r["output"]) for r in rows], [r["intended"] for r in rows])
    floor = CrosstalkConfig().min_confidence
    by_kind: dict[str, Counter] = {}
    misses = []
    for row, v in zip(rows, verdicts):
        abstained = v.performed_task in ABSTAINED
        said_crossed = v.crossed and v.confidence >= floor
        truth = kind(row)
        right = not abstained and said_crossed == (truth == "crossed")
        c = by_kind.setdefault(truth, Counter())
        c["n"] += 1
        c["right"] += right
        c["abstained"] += abstained
        c["false_alarm"] += truth != "crossed" and said_crossed and not abstained
        c["same_task"] += truth == "crossed" and v.performed_task == row["performed"]
        if not right:
            misses.append({"id": row["id"], "intended": row["intended"], "hand": row["performed"],
                           "judge": v.performed_task, "confidence": round(v.confidence, 2), "note": row["note"]})
    total = sum(c["n"] for c in by_kind.values())
    empty = Counter()
    result = {"set": labels.name, "n": total, "accuracy": sum(c["right"] for c in by_kind.values()) / total,
              "abstained": sum(c["abstained"] for c in by_kind.values()) / total,
              "false_alarms_clean": by_kind.get("clean", empty)["false_alarm"] / max(1, by_kind.get("clean", empty)["n"]),
              "false_alarms_no_task": by_kind.get("no task", empty)["false_alarm"] / max(1, by_kind.get("no task", empty)["n"]),
              "by_label": {k: {"n": c["n"], "accuracy": c["right"] / c["n"],
                               **({"same_task": c["same_task"] / c["n"]} if k == "crossed" else {})}
                           for k, c in sorted(by_kind.items())},
              "misses": misses}
    print(f"{labels.name}: crossed-or-not right {result['accuracy']:.1%} of {total} (abstentions count as wrong); "
          f"abstained {result['abstained']:.1%}; false alarms on clean attempts {result['false_alarms_clean']:.1%}, "
          f"on no-task outputs {result['false_alarms_no_task']:.1%}")
    for k, r in result["by_label"].items():
        extra = f", judge named the hand-labelled task on {r['same_task']:.0%}" if "same_task" in r else ""
        print(f"  {k:8s} n={r['n']:3d}  right {r['accuracy']:.1%}{extra}")
    for m in misses:
        print(f"  miss {m['id']}: asked {m['intended']}, hand {m['hand']}, judge {m['judge']} ({m['confidence']}) - {m['note']}")
    save_result(f"judge_hand_labels_{args.set}", result)


if __name__ == "__main__":
    main()
