"""LoRA on the embedded 135M model with synth records, end to end through the CLI (slow)."""

import json

import pytest
from typer.testing import CliRunner

from mtsft.cli import app


@pytest.mark.slow
def test_lora_on_builtin_with_synth_records_completes_and_lowers_loss(tmp_path):
    from mtsft.records import write_jsonl
    from mtsft.tasks.synth import synth_records

    # 8 records, 2 steps an epoch, 4 epochs: the same examples come back, so the loss must fall on them.
    write_jsonl(tmp_path / "data.jsonl", synth_records(8, seed=0, clean=True))
    result = CliRunner().invoke(app, [
        "train", "-c", "lora", "--data", str(tmp_path / "data.jsonl"), "--out", str(tmp_path / "run"),
        "--set", "max_steps=8", "--set", "epochs=4", "--set", "batch_size=4",
        "--set", "eval.fraction=0", "--set", "max_length=256", "--set", "logging_steps=1", "--set", "lr=1e-3",
        "--set", "report_to=[]"])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    losses = [json.loads(l)["loss"] for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
              if '"loss"' in l]
    assert info["status"] == "completed" and len(losses) == 8
    assert sum(losses[-2:]) < 0.8 * sum(losses[:2])  # the last epoch vs the first, on the same records
