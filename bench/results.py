"""Where benchmarks put their figures: `bench/results/NAME.json`, with the machine and versions that
produced them, so a figure the README quotes has a file behind it (commit the file with the README)."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
# Real public data sets live beside the repository (`../shared/datasets` from its root), never inside it.
DATASETS = Path(os.environ.get("MTSFT_DATASETS", Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))


def machine() -> dict:
    info = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
            "processor": platform.processor() or None}
    for name in ("torch", "transformers", "trl", "peft", "sklearn", "rensa"):
        module = sys.modules.get(name)
        if module is not None:
            info[name] = getattr(module, "__version__", None)
    return info


def save_result(name: str, result: dict, argv: list[str] | None = None) -> Path:
    """Write `result` with the command line, date and machine; returns the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "command": " ".join(["python", *(argv if argv is not None else sys.argv)]),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "result": result}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"result: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return path
