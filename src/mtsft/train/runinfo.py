"""run.json: what a run is (config, data hash, versions, method) and where it stands (status, stages).

Written at the start (status "running"), after each stage, and at the end ("completed"); a run that
died keeps "running" with its last finished stage, which is what `--resume` reads.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

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
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


class RunInfo:
    def __init__(self, run_dir: Path, *, is_main: bool = True):
        self.path = Path(run_dir) / "run.json"
        self.is_main = is_main
        self.data: dict = {}

    def begin(self, cfg, *, resume: bool) -> None:
        if self.path.exists():
            previous = json.loads(self.path.read_text(encoding="utf-8"))
            if not resume:
                raise ValueError(f"{self.path.parent} already holds a run ({previous.get('status')}); "
                                 "pass --resume to continue it or choose another --out")
            self.data = previous
        elif resume:
            raise FileNotFoundError(f"--resume: no run to resume in {self.path.parent} (no run.json)")
        self.data.update(status="running", config=dump_config(cfg), versions=versions(),
                         started=self.data.get("started") or time.strftime("%Y-%m-%dT%H:%M:%S"),
                         resumed=self.data.get("resumed", 0) + (1 if resume else 0))
        self.data.setdefault("stages", {})
        self._write()
        if self.is_main:  # `mtsft train --resume --out RUN` reads it back
            import yaml

            (self.path.parent / "config.yaml").write_text(
                yaml.safe_dump(self.data["config"], sort_keys=False, allow_unicode=True), encoding="utf-8")

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
