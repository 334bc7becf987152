"""run.json: what a run is (config, data hash, versions, method) and where it stands (status, stages).

Written at the start (status "running"), after each stage, and at the end ("completed"); a run that
raised is marked "failed" with the error and where it happened ("startup" or the stage); a run that was
killed keeps "running" with its last finished stage, which is what `--resume` reads.

`check_run_dir` is the folder check `mtsft train` runs before importing torch: an `--out` that is a file,
cannot be written, or is a non-empty folder that is not a run is refused in one line naming the path.
This module imports torch only where it measures GPU memory.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mtsft.config import dump_config
from mtsft.runfiles import RUN_INFO, read_run_info, run_info_path, write_run_info

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


# Files mtsft itself may put in a run folder before its run.json exists (the multi-process launcher's config).
PRE_RUN_FILES = {"launch_config.yaml"}


def _read_run(run_dir: Path) -> dict | None:
    try:
        return read_run_info(run_dir)
    except ValueError as e:
        raise ValueError(f"{e}; move the folder away or choose another --out") from None


def restartable(previous: dict) -> bool:
    """A run that failed before any stage started has nothing to keep: a plain start may reuse its folder."""
    return previous.get("status") == "failed" and not previous.get("stages")


# What a run writes at its top level (loop.py's layout): the run folder's OWNER list names them from the
# start, so a resume after a kill finds every entry listed (mtsft.outputs, the output rule).
RUN_ENTRIES = (RUN_INFO, "config.yaml", "metrics.jsonl", "task_loss.csv", "tb", "mlruns", "stages", "model",
               "launch_config.yaml")


def check_run_dir(run_dir: str | Path, *, resume: bool, inputs: tuple = ()) -> None:
    """Refuse, before any work, a run folder that cannot hold this run (one-line errors naming the path):
    the output rule first (a file or FIFO, a data file, a folder holding files mtsft did not write)."""
    from mtsft.outputs import OWNER, TMP_MARK, check_folder

    run_dir = Path(run_dir)
    check_folder(run_dir, inputs)
    previous = _read_run(run_dir)
    if previous is not None:
        if not resume and not restartable(previous):
            raise ValueError(f"{run_dir} already holds a run ({previous.get('status')}); "
                             "pass --resume to continue it or choose another --out")
        return
    if resume:
        raise FileNotFoundError(f"--resume: no run to resume in {run_dir} (no {RUN_INFO})")
    if run_dir.is_dir():
        other = sorted(p.name for p in run_dir.iterdir() if p.name not in PRE_RUN_FILES and p.name != OWNER)
        if other:
            shown = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
            raise FileExistsError(f"{run_dir}: not empty ({shown}) and not an mtsft run (no {RUN_INFO}); "
                                  "choose a new or empty --out")
    # can we write there? (a missing parent is created, a read-only one named)
    existed = run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    probe = run_dir / f".write-probe{TMP_MARK}{os.getpid()}"  # a temporary name the output rule knows
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
        self.path = run_info_path(run_dir)
        self.is_main = is_main
        self.data: dict = {}

    def begin(self, cfg, *, resume: bool) -> None:
        if self.is_main:
            from mtsft.outputs import claim_folder, own

            check_run_dir(self.path.parent, resume=resume, inputs=(cfg.data, cfg.eval.data))
            claim_folder(self.path.parent)
            own(self.path.parent, *RUN_ENTRIES)
        previous = _read_run(self.path.parent)
        if previous is not None:
            if not resume and not restartable(previous):
                raise ValueError(f"{self.path.parent} already holds a run ({previous.get('status')}); "
                                 "pass --resume to continue it or choose another --out")
            self.data = previous if resume else {}
        elif resume:
            raise FileNotFoundError(f"--resume: no run to resume in {self.path.parent} (no {RUN_INFO})")
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
        write_run_info(self.path.parent, self.data)
