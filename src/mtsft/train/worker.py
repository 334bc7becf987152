"""What each process started by `accelerate launch` runs: `python -m mtsft.train.worker CONFIG [--resume]`.

The parent (`mtsft train --nproc N`, see `launch.py`) has already validated the config and written it
into the run directory; every worker loads that file and runs the same `train()` a single process runs.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print("usage: python -m mtsft.train.worker CONFIG.yaml [--resume]", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from mtsft.train.config import load_train_config
    from mtsft.train.loop import train

    cfg = load_train_config(argv[0])
    info = train(cfg, resume="--resume" in argv[1:])
    if os.environ.get("RANK", "0") == "0":
        print(f"run: {cfg.out}  status: {info['status']}  final loss: {info['metrics']['final_loss']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
