"""Issue 29, deliverable 2: on a busy machine mtsft's OpenMP threads wait passively.

Importing mtsft (the library or the command line) sets OMP_WAIT_POLICY=PASSIVE and the thread count in the
environment before torch is imported, so torch's OpenMP runtime reads them when it loads; a user's own
values are kept, and MTSFT_THREADS sets the count. Each check runs in a fresh interpreter: torch reads the
settings once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = r"""
import json, os, sys
{first}
seen = {{"policy": os.environ.get("OMP_WAIT_POLICY"), "threads": os.environ.get("OMP_NUM_THREADS"),
         "torch_before": "torch" in sys.modules}}
import mtsft, torch
seen.update(torch_threads=torch.get_num_threads(), per_process_2=mtsft.threads_per_process(2),
            usable=mtsft.usable_cpus())
print(json.dumps(seen))
"""

OMP_KEYS = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MTSFT_THREADS")


def probe(first: str = "import mtsft", **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in OMP_KEYS}
    proc = subprocess.run([sys.executable, "-c", PROBE.format(first=first)], env={**clean, **env},
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_mtsft_sets_passive_waiting_and_the_usable_cores_before_torch():
    seen = probe()
    assert not seen["torch_before"]
    assert seen["policy"] == "PASSIVE"
    assert seen["threads"] == str(seen["usable"]) and seen["torch_threads"] == seen["usable"]
    assert seen["per_process_2"] == max(1, seen["usable"] // 2)


def test_the_command_line_sets_them_before_torch():
    seen = probe("from mtsft.cli import app")
    assert not seen["torch_before"] and seen["policy"] == "PASSIVE" and seen["threads"] == str(seen["usable"])


def test_a_users_own_values_are_kept():
    seen = probe(OMP_WAIT_POLICY="ACTIVE", OMP_NUM_THREADS="1")
    assert seen["policy"] == "ACTIVE" and seen["threads"] == "1" and seen["torch_threads"] == 1
    assert seen["per_process_2"] == 1  # the user's count is not divided among launched workers


def test_mtsft_threads_sets_the_count():
    seen = probe(MTSFT_THREADS="1", OMP_NUM_THREADS="3")
    assert seen["threads"] == "1" and seen["torch_threads"] == 1 and seen["policy"] == "PASSIVE"


@pytest.mark.parametrize("bad", ["0", "many", "-2"])
def test_a_bad_mtsft_threads_is_one_line_before_any_work(tmp_path, bad):
    out = tmp_path / "synth.jsonl"
    env = {**{k: v for k, v in os.environ.items() if k not in OMP_KEYS}, "MTSFT_THREADS": bad}
    proc = subprocess.run([sys.executable, "-m", "mtsft", "data", "synth", "--out", str(out), "--n", "2"],
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 2 and not out.exists()
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "MTSFT_THREADS" in lines[0]


def test_launched_workers_share_the_cores(monkeypatch, tmp_path):
    import mtsft
    from mtsft.train import launch as launch_mod
    from mtsft.train.config import TrainConfig

    seen = {}
    monkeypatch.setattr(mtsft, "_USER_THREADS", None)
    monkeypatch.setattr(launch_mod, "threads_per_process", mtsft.threads_per_process)
    monkeypatch.setattr(mtsft, "usable_cpus", lambda: 8)
    monkeypatch.setattr(launch_mod.subprocess, "run", lambda cmd, env: seen.update(env=env) or
                        subprocess.CompletedProcess(cmd, 0))
    spec = launch_mod.LaunchSpec(4, None, None, None, None, None)
    launch_mod.launch(TrainConfig(out=str(tmp_path / "run")), spec, log=lambda *_: None)
    assert seen["env"]["OMP_NUM_THREADS"] == "2" and seen["env"]["OMP_WAIT_POLICY"]
