"""Issue 30's floor and aims, read off a finished `mtsft run` folder (the demo's: `bash run_full_pipeline.sh`).

    python bench/demo_floor.py runs/pipeline            # prints the checks; bench/results/demo_floor.json

Floor (all required), each on the paired 95% interval of tuned minus base on the run's own eval records:
- the built-in macro rises beyond its interval;
- no built-in task falls beyond its interval;
- real translation rises beyond its interval in both directions (zh->en: the records whose source is zh);
- the crosstalk rise over base is at most 0 (point estimate, every judged output);
- format violations are at most 10% of the tuned model's outputs;
- general perplexity rises by at most 10%.
Aims: tuned beats base beyond the interval on 6 of 12 built-in tasks; the built-in macro gains 10 points.

bench/sweep_demo.py applies the same checks to each confirmed sweep point on its dev draw.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIRECTIONS = (("zh", "zh>en"), ("en", "en>zh"))   # a translation record's lang is its source's


def paired_table(base: Path, tuned: Path) -> dict:
    """compare_runs' rows (per suite: tasks, overall, macro; base, tuned, paired change, interval) and the
    translation change per direction in each suite."""
    from mtsft.diagnose.compare import compare_runs
    from mtsft.diagnose.stats import paired_mean_diff
    from mtsft.runfiles import read_predictions, suite_folders

    rows = compare_runs([base, tuned])
    table = {"rows": [{k: r[k] for k in ("suite", "task", "n", "scores", "delta", "delta_ci", "decided")}
                      for r in rows], "directions": {}}
    for folder in suite_folders(base):
        before = {r["id"]: r for r in read_predictions(folder) if r["task"] == "translation"}
        after = {r["id"]: r for r in read_predictions(tuned / folder.name) if r["task"] == "translation"}
        for lang, direction in DIRECTIONS:
            ids = [i for i in before if i in after and before[i]["lang"] == lang]
            if len(ids) >= 2:
                delta, ci = paired_mean_diff([before[i]["score"] for i in ids], [after[i]["score"] for i in ids])
                table["directions"][f"{folder.name} {direction}"] = {
                    "n": len(ids), "base": sum(before[i]["score"] for i in ids) / len(ids), "delta": delta,
                    "delta_ci": list(ci) if ci else None, "decided": bool(ci and (ci[0] > 0 or ci[1] < 0))}
    return table


def _macro(table: dict, suite: str) -> dict | None:
    return next((r for r in table["rows"] if r["suite"] == suite and r["task"] == "macro"), None)


def _check(name: str, value, ok: bool | None, detail: str = "") -> dict:
    return {"check": name, "value": value, "met": ok, "detail": detail}


def floor_checks(table: dict, diagnosis: dict | None) -> dict:
    """{floor: [checks], aims: [checks]}; a check's `met` is None when the run lacks what it needs."""
    from mtsft.diagnose.problems import overall_rate

    macro = _macro(table, "builtin")
    tasks = [r for r in table["rows"] if r["suite"] == "builtin" and r["task"] not in ("macro", "overall")]
    down = [r["task"] for r in tasks if r["decided"] and r["delta"] < 0]
    up = [r["task"] for r in tasks if r["decided"] and r["delta"] > 0]
    floor = [_check("built-in macro rises beyond its interval", macro and fmt(macro),
                    bool(macro and macro["delta_ci"] and macro["delta_ci"][0] > 0)),
             _check("no built-in task falls beyond its interval", ", ".join(down) or "none", not down)]
    for _, direction in DIRECTIONS:
        row = table["directions"].get(f"real {direction}")
        floor.append(_check(f"real translation {direction} rises beyond its interval", row and fmt(row),
                            bool(row and row["delta_ci"] and row["delta_ci"][0] > 0) if row else None))
    findings = {f["problem"]: f for f in (diagnosis or {}).get("findings", [])}
    crosstalk = findings.get("crosstalk", {}).get("table") or []
    tuned_x, base_x = overall_rate(crosstalk), overall_rate(crosstalk, "base")
    rise = None if tuned_x is None or base_x is None else tuned_x - base_x
    floor.append(_check("crosstalk rise over base <= 0", rise, None if rise is None else rise <= 0,
                        f"base {base_x} -> tuned {tuned_x}" if rise is not None else "no diagnosis"))
    violations = overall_rate(findings.get("format", {}).get("table") or [])
    floor.append(_check("format violations <= 10% of outputs", violations,
                        None if violations is None else violations <= 0.10))
    ppl = next((c.get("value") for c in findings.get("forgetting", {}).get("checks", [])
                if c.get("name") == "perplexity increase"), None)
    floor.append(_check("general perplexity rises <= 10%", ppl, None if ppl is None else ppl <= 0.10))
    aims = [_check("built-in tasks beyond the interval up >= 6 of 12", f"{len(up)}: {', '.join(up)}", len(up) >= 6),
            _check("built-in macro gains >= 10 points", macro and macro["delta"],
                   bool(macro and macro["delta"] >= 0.10))]
    return {"floor": floor, "aims": aims, "floor_met": all(c["met"] for c in floor)}


def fmt(row: dict) -> str:
    ci = row.get("delta_ci")
    base = row["scores"][0] if "scores" in row else row.get("base")
    head = f"{base:.3f} -> {base + row['delta']:.3f}: " if base is not None else ""
    return head + (f"{row['delta']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else f"{row['delta']:+.3f}")


def print_checks(checks: dict) -> None:
    for part in ("floor", "aims"):
        print(f"{part}:")
        for c in checks[part]:
            mark = {True: "met", False: "NOT met", None: "n/a"}[c["met"]]
            value = f"{c['value']:.3f}" if isinstance(c["value"], float) else c["value"]
            print(f"  {mark:<8} {c['check']}: {value} {c['detail']}".rstrip())
    print(f"floor {'met' if checks['floor_met'] else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    from mtsft.runfiles import read_diagnosis

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run", help="a finished `mtsft run` folder (eval_base/, eval_tuned/, diagnose/)")
    p.add_argument("--name", default="demo_floor", help="bench/results/NAME.json")
    args = p.parse_args(argv)
    run = Path(args.run)
    table = paired_table(run / "eval_base", run / "eval_tuned")
    checks = floor_checks(table, read_diagnosis(run / "diagnose"))
    for row in table["rows"]:
        if row["suite"] in ("builtin", "real"):
            print(f"  {row['suite']:<8} {row['task']:<22} n={row['n']:<4} {fmt(row)}{'  *' if row['decided'] else ''}")
    for name, row in table["directions"].items():
        print(f"  {name:<31} n={row['n']:<4} {fmt(row)}{'  *' if row['decided'] else ''}")
    print_checks(checks)
    path = ROOT / "bench" / "results" / f"{args.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run": str(run), "table": table, **checks}, indent=2, default=str) + "\n",
                    encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
