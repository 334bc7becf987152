"""Peak memory of `mtsft run`, per stage, as the summed PSS of its whole process tree.

    .venv/bin/python bench/bench_memory.py                                  # the demo, every stage
    .venv/bin/python bench/bench_memory.py --out /tmp/memrun --stages train # redo train only (earlier stages reused)
    .venv/bin/python bench/bench_memory.py --profile tiny --name memory_tiny   # the cheap check (about a minute)
    .venv/bin/python bench/bench_memory.py --stages train --set train.max_batch_tokens=null --name memory_before
    python3 bench/bench_memory.py --pipeline --interval 2 --name memory_demo   # a fresh clone's `bash run_full_pipeline.sh`

The run is `python -m mtsft run --profile PROFILE --out OUT` in a child process. Every `--interval` seconds the
bench sums the proportional set size (PSS, /proc/PID/smaps_rollup) of that process and all its descendants
(curation workers, the sandbox's children): shared pages (the torch libraries a forked worker shares with its
parent) count once in total, not once per process as summed RSS would. Each sample is charged to the stage
the run's log last announced ("== train"; "startup" before the first one). `--stages S ...` forces those
stages and stops the run as soon as a stage outside them starts working, so `--stages train` on a folder
where data and curate are done measures training alone. Target (issue 29.1): every stage of the demo at most
4 GB (`--cap-mb`).

Figures go to bench/results/NAME.json (default memory.json). Memory figures hold on a busy machine; the
seconds printed beside them do not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE_START = re.compile(r"^== (\w+)\s*$")
STAGE_REUSED = re.compile(r"^(\w+): reusing ")


def _children_map() -> dict[int, list[int]]:
    """ppid -> pids of every process visible in /proc."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:   # gone between listdir and read
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])   # the name may hold spaces and parentheses
        out.setdefault(ppid, []).append(int(entry))
    return out


def tree_pids(root: int) -> list[int]:
    children, pids, todo = _children_map(), [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


def _rollup(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB; (0, 0) when it has gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def tree_memory_mb(root: int) -> tuple[float, float, int]:
    """(summed PSS, summed RSS) in MB and the process count of `root`'s tree."""
    pids = tree_pids(root)
    sizes = [_rollup(p) for p in pids]
    return sum(s[0] for s in sizes) / 1024, sum(s[1] for s in sizes) / 1024, len(pids)


class StageLog:
    """Follows the run's output: which stage is working now, and which were reused."""

    def __init__(self, proc: subprocess.Popen, stop_outside: set[str] | None, echo: bool):
        self.current, self.reused, self.stop_outside, self.echo = "startup", [], stop_outside, echo
        self.stopped_at: str | None = None
        self.proc = proc
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        for raw in self.proc.stdout:
            line = raw.rstrip("\n")
            if self.echo:
                print(f"  | {line}", flush=True)
            if m := STAGE_REUSED.match(line):
                self.reused.append(m.group(1))
            elif m := STAGE_START.match(line):
                with self.lock:
                    self.current = m.group(1)
                if self.stop_outside is not None and m.group(1) not in self.stop_outside:
                    self.stopped_at = m.group(1)
                    os.killpg(self.proc.pid, signal.SIGTERM)   # the run's own process group (start_new_session)

    def stage(self) -> str:
        with self.lock:
            return self.current


def measure(cmd: list[str], interval: float, stop_outside: set[str] | None, echo: bool) -> dict:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}   # no wrapping or colour codes in the stage lines
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace", env=env, start_new_session=True)
    log = StageLog(proc, stop_outside, echo)
    stages: dict[str, dict] = {}
    started = time.perf_counter()
    while proc.poll() is None:
        pss, rss, n = tree_memory_mb(proc.pid)
        name = log.stage()
        s = stages.setdefault(name, {"peak_pss_mb": 0.0, "peak_rss_mb": 0.0, "max_processes": 0,
                                     "first_s": time.perf_counter() - started})
        s["peak_pss_mb"], s["peak_rss_mb"] = max(s["peak_pss_mb"], round(pss, 1)), max(s["peak_rss_mb"], round(rss, 1))
        s["max_processes"] = max(s["max_processes"], n)
        s["last_s"] = time.perf_counter() - started
        time.sleep(interval)
    log.thread.join(timeout=10)
    for s in stages.values():   # seconds are wall time on this machine: only indicative on a busy one
        s["seconds"] = round(s.pop("last_s", s["first_s"]) - s.pop("first_s"), 1)
    return {"exit_code": proc.returncode, "stopped_at": log.stopped_at, "reused": log.reused, "stages": stages,
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="demo", help="the run recipe (demo: the default; tiny: a minute)")
    p.add_argument("--out", default="runs/bench-memory", help="the run folder, relative to the repository root by default (git ignores runs/; finished stages are reused)")
    p.add_argument("--stages", nargs="+", default=None, help="redo only these stages and stop after them")
    p.add_argument("--set", dest="sets", action="append", default=[], help="passed to mtsft run (repeatable)")
    p.add_argument("--interval", type=float, default=0.2, help="seconds between samples")
    p.add_argument("--cap-mb", type=float, default=4096, help="the target: each stage's peak summed PSS")
    p.add_argument("--name", default="memory", help="bench/results/NAME.json")
    p.add_argument("--quiet", action="store_true", help="do not echo the run's output")
    p.add_argument("--pipeline", action="store_true",
                   help="run `bash run_full_pipeline.sh` (set-up included, charged to 'startup') instead of `mtsft run`")
    args = p.parse_args(argv)

    cmd = [sys.executable, "-m", "mtsft", "run", "--profile", args.profile, "--out", args.out]
    if args.pipeline:
        cmd = ["bash", "run_full_pipeline.sh", "--profile", args.profile, "--out", args.out]
    for stage in args.stages or []:
        cmd += ["--force", stage]
    for item in args.sets:
        cmd += ["--set", item]
    print("running: " + " ".join(cmd), flush=True)
    result = measure(cmd, args.interval, set(args.stages) if args.stages else None, echo=not args.quiet)
    # a reused stage did no work; the stage a --stages run was stopped at had barely begun
    measured = {k: v for k, v in result["stages"].items() if k not in result["reused"] and k != result["stopped_at"]}
    peak = max((s["peak_pss_mb"] for s in measured.values()), default=0.0)
    report = {
        "what": "peak summed PSS of `mtsft run`'s process tree per stage (issue 29.1)",
        "command": " ".join(["bench/bench_memory.py", *(argv if argv is not None else sys.argv[1:])]),
        "run": " ".join(cmd[1:]), "profile": args.profile, "sets": args.sets, "interval_s": args.interval,
        "cap_mb": args.cap_mb, "peak_pss_mb": peak, "within_cap": peak <= args.cap_mb,
        "machine": {"cores": os.cpu_count(), "mem_total_mb": _mem_total_mb()},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **result,
    }
    path = ROOT / "bench" / "results" / f"{args.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n{'stage':<12} {'peak PSS MB':>12} {'peak RSS MB':>12} {'procs':>6} {'s (busy)':>9}")
    for name, s in result["stages"].items():
        note = "  (reused)" if name in result["reused"] else ""
        print(f"{name:<12} {s['peak_pss_mb']:>12,.0f} {s['peak_rss_mb']:>12,.0f} {s['max_processes']:>6} "
              f"{s['seconds']:>9}{note}")
    print(f"peak {peak:,.0f} MB summed PSS, cap {args.cap_mb:,.0f} MB: {'within' if report['within_cap'] else 'OVER'}; "
          f"exit {result['exit_code']}{', stopped at ' + result['stopped_at'] if result['stopped_at'] else ''}")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0 if result["exit_code"] == 0 or result["stopped_at"] else 1


def _mem_total_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024)
    return 0.0


if __name__ == "__main__":
    sys.exit(main())
