"""`mtsft iterate` on the tiny profile: versions run, the seed twin measures the noise, the log is written."""

from __future__ import annotations

import pytest

from mtsft.config import load_config
from mtsft.iterate import PROBLEMS, IterateConfig, iterate
from mtsft.run import RunConfig
from mtsft.runfiles import read_diagnosis


@pytest.mark.slow  # two or three whole runs, each in its own process: the fast suite's longest test
def test_iterate_writes_a_log_whose_numbers_come_from_the_runs(tmp_path):
    run = load_config(RunConfig, "run-tiny", ["n=48", "eval_n=12", "real_per_set=2", "eval.real_per_set=1",
                                              "train.max_steps=2"])
    messages: list[str] = []
    versions = iterate(IterateConfig(run=run, rounds=1, out=str(tmp_path)),
                       log=lambda *args, **_: messages.append(" ".join(map(str, args))))
    assert versions[0].name == "v0.1" and (tmp_path / "v0.1-seed1" / "summary.json").exists()
    # rounds=1: v0.2 exists exactly when v0.1's diagnosis fired and proposed a change the config can express,
    # and it carries those changes; otherwise the loop says why it stopped
    proposed = [lv for lv in versions[0].diagnosis["levers"] if lv["changes"]]
    pulled = bool(versions[0].diagnosis["fired"]) and bool(proposed)
    assert [v.name for v in versions] == (["v0.1", "v0.2"] if pulled else ["v0.1"])
    assert [[c["lever"] for c in v.changes] for v in versions[1:]] == ([[lv["name"] for lv in proposed]] if pulled else [])
    assert any("stopping after v0.1" in m for m in messages) is not pulled
    log = (tmp_path / "MULTITASK_ITERATION_LOG.md").read_text(encoding="utf-8")
    assert ("Changes (from the previous version's diagnosis)" in log) is pulled
    assert "## v0.1" in log and "## Across versions" in log and "Noise" in log and "crosstalk, all" in log
    assert (tmp_path / "iterations.png").stat().st_size > 1000
    for v in versions:
        assert read_diagnosis(v.folder / "diagnose")["findings"] == v.diagnosis["findings"]
        tuned = v.scores()[("builtin", "overall")][1]
        assert f"{tuned:.3f}" in log
        crossed = v.all_outputs("crosstalk")   # over every judged output, from the diagnosis's own table
        assert crossed is not None and 0 <= crossed <= 1 and f"{crossed:.3f}" in log
        assert {f["problem"] for f in v.diagnosis["findings"]} == set(PROBLEMS)


def test_a_lever_must_beat_the_sampling_error_when_the_two_seeds_agree(tmp_path):
    from mtsft.iterate import Version, credits, noise

    def version(name, crosstalk, ci, changes=()):
        findings = [{"problem": p, "status": "fires", "checks": [
            {"name": "x", "value": crosstalk if p == "crosstalk" else 0.1, "ci": ci if p == "crosstalk" else None}]}
            for p in PROBLEMS]
        return Version(name, tmp_path, {"rows": []}, {"findings": findings}, changes=list(changes))

    lever = [{"problem": "crosstalk", "lever": "task tags", "changes": []}]
    first, twin = version("v0.1", 0.333, [0.18, 0.53]), version("v0.1-seed1", 0.333, [0.18, 0.53])
    eps = noise(first, twin)
    assert abs(eps["crosstalk"] - 0.175) < 1e-9 and eps["format"] == 0.0   # seeds agree; the interval decides
    one_more = version("v0.2", 0.375, [0.2, 0.57], lever)        # one more crossed output of 24
    halved = version("v0.2", 0.125, [0.04, 0.31], lever)
    assert [c["verdict"] for c in credits([first, one_more], eps)] == ["within noise"]
    assert [c["verdict"] for c in credits([first, halved], eps)] == ["helped"]
