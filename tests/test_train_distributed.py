"""Two CPU processes (gloo) launched through accelerate by `mtsft train --nproc 2`."""

import json
import os
import subprocess
import sys

from test_train_run import BASE, write_records


def test_two_process_run_ends_with_identical_weights_on_both_ranks(tmp_path):
    data = write_records(tmp_path / "data.jsonl")
    sets = [a for kv in BASE + ["max_steps=3", f"data={data}"] for a in ("--set", kv)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "mtsft", "train", "--nproc", "2",
                           "--out", str(tmp_path / "run"), *sets], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    checksums = info["metrics"]["rank_weight_checksums"]
    assert info["status"] == "completed" and len(checksums) == 2
    assert checksums[0] == checksums[1]
