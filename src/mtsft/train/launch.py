"""More than one process or machine: re-run `mtsft train` under `accelerate launch`.

The parent process validates the config (so a typo fails in one line before anything starts), writes
it to the run directory, and execs accelerate with that file; each worker runs the same code path as a
single-process run. On CPU the workers talk over gloo, on GPUs over NCCL; a `--config-accelerate` file
(a path, or a shipped name: accelerate/ddp, accelerate/fsdp, accelerate/deepspeed_zero2|3) selects DDP,
FSDP or DeepSpeed ZeRO-2/3.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from mtsft import threads_per_process
from mtsft.config import dump_config
from mtsft.train.config import TrainConfig


@dataclass
class LaunchSpec:
    nproc: int | None = None                 # processes per machine
    config_file: str | None = None           # accelerate config (DDP / FSDP / DeepSpeed)
    num_machines: int | None = None
    machine_rank: int | None = None
    main_process_ip: str | None = None
    main_process_port: int | None = None

    def wanted(self) -> bool:
        return bool((self.nproc and self.nproc > 1) or self.config_file or (self.num_machines or 1) > 1)


def inside_launcher() -> bool:
    return "LOCAL_RANK" in os.environ or "ACCELERATE_LAUNCHED" in os.environ


def accelerate_command(spec: LaunchSpec, config_path: Path, resume: bool) -> list[str]:
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if spec.config_file:
        if not Path(spec.config_file).exists():
            raise FileNotFoundError(f"accelerate config not found: {spec.config_file}")
        cmd += ["--config_file", str(spec.config_file)]
    else:
        # No config file: plain DDP (torchrun underneath); on a CPU-only machine the workers use gloo.
        cmd += ["--multi_gpu", "--mixed_precision", "no", "--dynamo_backend", "no"]
    for flag, value in (("--num_processes", _total_processes(spec)), ("--num_machines", spec.num_machines),
                        ("--machine_rank", spec.machine_rank), ("--main_process_ip", spec.main_process_ip),
                        ("--main_process_port", spec.main_process_port)):
        if value is not None:
            cmd += [flag, str(value)]
    cmd += ["-m", "mtsft.train.worker", str(config_path)]
    return cmd + (["--resume"] if resume else [])


def _total_processes(spec: LaunchSpec) -> int | None:
    # accelerate's --num_processes counts all machines together.
    if spec.nproc is None:
        return None
    return spec.nproc * (spec.num_machines or 1)


def launch(cfg: TrainConfig, spec: LaunchSpec, *, resume: bool = False, log=print) -> int:
    """Write the resolved config into the run directory and run the workers; returns their exit code."""
    from mtsft.outputs import claim_folder, own, write_text_atomic
    from mtsft.train.runinfo import RUN_ENTRIES

    run_dir = claim_folder(cfg.out, (cfg.data, cfg.eval.data))
    own(run_dir, *RUN_ENTRIES)
    config_path = run_dir / "launch_config.yaml"
    write_text_atomic(config_path, yaml.safe_dump(dump_config(cfg), sort_keys=False, allow_unicode=True))
    cmd = accelerate_command(spec, config_path, resume)
    log("launching: " + " ".join(cmd))
    # each worker gets its share of the cores (or the user's own count); the wait policy is inherited
    env = {**os.environ, "MTSFT_LAUNCHED": "1", "OMP_NUM_THREADS": str(threads_per_process(spec.nproc or 1))}
    return subprocess.run(cmd, env=env).returncode
