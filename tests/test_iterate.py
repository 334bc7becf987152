"""`mtsft iterate` on the tiny profile: versions run, the seed twin measures the noise, the log is written."""

from __future__ import annotations

from mtsft.config import load_config
from mtsft.iterate import PROBLEMS, IterateConfig, iterate
from mtsft.run import RunConfig


def test_iterate_writes_a_log_whose_numbers_come_from_the_runs(tmp_path):
    run = load_config(RunConfig, "run-tiny", ["n=48", "eval_n=12", "real_per_set=2", "eval.real_per_set=1",
                                              "train.max_steps=2"])
    versions = iterate(IterateConfig(run=run, rounds=1, out=str(tmp_path)), log=lambda *_: None)
    assert versions[0].name == "v0.1" and (tmp_path / "v0.1-seed1" / "summary.json").exists()
    assert 1 <= len(versions) <= 2
    log = (tmp_path / "MULTITASK_ITERATION_LOG.md").read_text(encoding="utf-8")
    assert "## v0.1" in log and "## Across versions" in log and "Noise" in log
    assert (tmp_path / "iterations.png").stat().st_size > 1000
    for v in versions:
        assert (v.folder / "diagnosis.json").exists()
        tuned = v.scores()[("builtin", "overall")][1]
        assert f"{tuned:.3f}" in log
        assert {f["problem"] for f in v.diagnosis["findings"]} == set(PROBLEMS)
    if len(versions) == 2:   # a lever was pulled: the log says which and why
        assert versions[1].changes and "Changes (from the previous version's diagnosis)" in log
