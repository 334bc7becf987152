"""Verifier audit: task x pattern -> mean score, for the gaming patterns and the valid variants of every
task's named case list (`tests/verifier_cases/<task>.py`), flagging any gaming pattern above 0.2 and any
valid variant below 0.8. A pattern's mean is over its cases (e.g. its en and zh versions, which share the
pattern name with a "(lang)" suffix).

    python bench/verifier_audit.py                 # every task
    python bench/verifier_audit.py --task chitchat # one or more tasks
    python bench/verifier_audit.py --show-failing  # also print the output of each flagged case

Writes bench/results/verifier_audit.json; exits 1 when anything is flagged.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench"), str(ROOT / "src")]

from results import save_result  # noqa: E402
import verifier_cases  # noqa: E402
from verifier_cases import GAMING_MAX, VALID_MIN  # noqa: E402

from mtsft import tasks  # noqa: E402

_LANG_SUFFIX = re.compile(r"\s*\((?:en|zh|mixed)\)$")


def pattern_of(case_name: str) -> str:
    """The pattern a case belongs to: its name without the "(en)"/"(zh)" suffix."""
    return _LANG_SUFFIX.sub("", case_name)


def load_cases(only: set[str] | None = None) -> tuple[list, dict[str, str]]:
    """Every case module's CASES (as `verifier_cases.all_cases` reads them), one module at a time so that a
    module that fails to import is reported, not fatal: (cases, {module: error})."""
    cases, errors = [], {}
    for info in sorted(pkgutil.iter_modules(verifier_cases.__path__), key=lambda m: m.name):
        if only and info.name not in only:
            continue
        try:
            cases += importlib.import_module(f"verifier_cases.{info.name}").CASES
        except Exception as exc:  # noqa: BLE001 - an audit reports every broken case list and goes on
            errors[info.name] = f"{type(exc).__name__}: {exc}"
    return [c for c in cases if not only or c.task in only], errors


def audit(only: set[str] | None = None) -> dict:
    """{"rows": [{task, kind, pattern, n, mean, min, max, flagged}], "cases": [...], "flagged": [...],
    "errors": {case module: import error}}."""
    per: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    cases_out, flagged = [], []
    cases, errors = load_cases(only)
    for case in cases:
        score = float(tasks.get(case.task).score(case.output, case.record))
        bad = score > GAMING_MAX if case.kind == "gaming" else score < VALID_MIN
        cases_out.append({"id": case.id, "task": case.task, "kind": case.kind, "score": round(score, 4), "flagged": bad})
        if bad:
            flagged.append({"id": case.id, "score": round(score, 4), "output": case.output})
        per[(case.task, case.kind, pattern_of(case.name))].append(score)
    rows = []
    for (task, kind, pattern), scores in sorted(per.items()):
        worst = max(scores) if kind == "gaming" else min(scores)
        rows.append({"task": task, "kind": kind, "pattern": pattern, "n": len(scores),
                     "mean": round(sum(scores) / len(scores), 4), "min": round(min(scores), 4),
                     "max": round(max(scores), 4),
                     "flagged": worst > GAMING_MAX if kind == "gaming" else worst < VALID_MIN})
    return {"gaming_max": GAMING_MAX, "valid_min": VALID_MIN, "rows": rows, "cases": cases_out, "flagged": flagged,
            "errors": errors,
            "metrics": {t: getattr(tasks.get(t), "metric", "verifier") for t in sorted({r["task"] for r in rows})}}


def print_table(result: dict, show_failing: bool = False) -> None:
    rows = result["rows"]
    width = max([len(r["pattern"]) for r in rows] + [7])
    for task in sorted({r["task"] for r in rows}):
        print(f"\n{task}  [{result['metrics'][task]}]")
        for kind in ("gaming", "valid"):
            for r in (r for r in rows if r["task"] == task and r["kind"] == kind):
                bound = f"<= {GAMING_MAX}" if kind == "gaming" else f">= {VALID_MIN}"
                mark = "  FLAG" if r["flagged"] else ""
                spread = f"  (min {r['min']:.2f}, max {r['max']:.2f})" if r["n"] > 1 else ""
                print(f"  {kind:6} {r['pattern']:{width}}  n={r['n']}  mean {r['mean']:.3f}  {bound}{spread}{mark}")
    n_cases = len(result["cases"])
    print(f"\n{n_cases} cases, {len(rows)} patterns, {len(result['flagged'])} flagged case(s)")
    for module, error in result["errors"].items():
        print(f"  ERROR tests/verifier_cases/{module}.py: {error}")
    for f in result["flagged"]:
        print(f"  FLAG {f['id']}: {f['score']:.3f}")
        if show_failing:
            print("    " + f["output"].replace("\n", "\n    ")[:600])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", help="only this task (repeatable)")
    parser.add_argument("--show-failing", action="store_true", help="print each flagged case's output")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/verifier_audit.json")
    args = parser.parse_args(argv)
    result = audit(set(args.task) if args.task else None)
    print_table(result, args.show_failing)
    if not args.no_save and not args.task:
        save_result("verifier_audit", result, argv=sys.argv if argv is None else ["bench/verifier_audit.py", *argv])
    return 1 if result["flagged"] or result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
