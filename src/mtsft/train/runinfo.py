"""run.json: what a run is (config, data hash, versions, method) and where it stands (status, stages).

Written at the start (status "running"), after each stage, and at the end ("completed"); a run that
raised is marked "failed" with the error and where it happened ("startup" or the stage); a run that was
killed keeps "running" with its last finished stage, which is what `--resume` reads.

`check_run_dir` is the folder check `mtsft train` runs before importing torch: an `--out` that is a file,
cannot be written, or is a non-empty folder that is not a run is refused in one line naming the path.
This module imports torch only where it measures GPU memory.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mtsft.config import dump_config

PACKAGES = ("mtsft", "torch", "transformers", "trl", "peft", "accelerate", "datasets")


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def peak_memory_mb() -> float:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# Files mtsft itself may put in a run folder before run.json exists (the multi-process launcher's config).
PRE_RUN_FILES = {"launch_config.yaml"}


def _read_run(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise ValueError(f"{path}: unreadable run.json; move the folder away or choose another --out") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not an mtsft run.json; choose another --out")
    return data


def restartable(previous: dict) -> bool:
    """A run that failed before any stage started has nothing to keep: a plain start may reuse its folder."""
    return previous.get("status") == "failed" and not previous.get("stages")


def check_run_dir(run_dir: str | Path, *, resume: bool) -> None:
    """Refuse, before any work, a run folder that cannot hold this run (one-line errors naming the path)."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"{run_dir}: is a file; --out names the run folder")
    run_json = run_dir / "run.json"
    if run_json.exists():
        previous = _read_run(run_json)
        if not resume and not restartable(previous):
            raise ValueError(f"{run_dir} already holds a run ({previous.get('status')}); "
                             "pass --resume to continue it or choose another --out")
        return
    if resume:
        raise FileNotFoundError(f"--resume: no run to resume in {run_dir} (no run.json)")
    if run_dir.is_dir():
        other = sorted(p.name for p in run_dir.iterdir() if p.name not in PRE_RUN_FILES)
        if other:
            shown = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
            raise FileExistsError(f"{run_dir}: not empty ({shown}) and not an mtsft run (no run.json); "
                                  "choose a new or empty --out")
    # can we write there? (a missing parent is created, a read-only one named)
    existed = run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    probe = run_dir / f".write-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    finally:
        if not existed:
            try:
                run_dir.rmdir()
            except OSError:
                pass


class RunInfo:
    def __init__(self, run_dir: Path, *, is_main: bool = True):
        self.path = Path(run_dir) / "run.json"
        self.is_main = is_main
        self.data: dict = {}

    def begin(self, cfg, *, resume: bool) -> None:
        if self.is_main:
            check_run_dir(self.path.parent, resume=resume)
        if self.path.exists():
            previous = _read_run(self.path)
            if not resume and not restartable(previous):
                raise ValueError(f"{self.path.parent} already holds a run ({previous.get('status')}); "
                                 "pass --resume to continue it or choose another --out")
            self.data = previous if resume else {}
        elif resume:
            raise FileNotFoundError(f"--resume: no run to resume in {self.path.parent} (no run.json)")
        self.data.pop("error", None)
        self.data.pop("failed_at", None)
        self.data.update(status="running", config=dump_config(cfg), versions=versions(),
                         started=self.data.get("started") or time.strftime("%Y-%m-%dT%H:%M:%S"),
                         resumed=self.data.get("resumed", 0) + (1 if resume else 0))
        self.data.setdefault("stages", {})
        self._write()
        if self.is_main:  # `mtsft train --resume --out RUN` reads it back
            import yaml

            from mtsft.records import write_text_atomic

            write_text_atomic(self.path.parent / "config.yaml",
                              yaml.safe_dump(self.data["config"], sort_keys=False, allow_unicode=True))

    def update(self, **fields) -> None:
        self.data.update(fields)
        self._write()

    def stage_done(self, name: str) -> bool:
        return self.data.get("stages", {}).get(name, {}).get("status") == "done"

    def stage_started(self, name: str, **fields) -> None:
        self.data["stages"][name] = {"status": "running", **fields}
        self._write()

    def stage_finished(self, name: str, **fields) -> None:
        self.data["stages"][name].update(status="done", **fields)
        self._write()

    def fail(self, error: BaseException) -> None:
        """Mark the run failed, with the error and where: "startup" or the stage that was running."""
        running = [n for n, st in self.data.get("stages", {}).items() if st.get("status") == "running"]
        message = str(error).splitlines()[0][:300] if str(error) else ""
        self.data.update(status="failed", failed_at=running[-1] if running else "startup",
                         error=f"{error.__class__.__name__}: {message}" if message else error.__class__.__name__,
                         finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
        try:
            self._write()
        except OSError:  # the folder itself is the problem: the original error is what to report
            pass

    def finish(self, **metrics) -> dict:
        self.data.update(status="completed", finished=time.strftime("%Y-%m-%dT%H:%M:%S"), metrics=metrics)
        self._write()
        return self.data

    def _write(self) -> None:
        if not self.is_main:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.data, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)
