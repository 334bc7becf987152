"""The Ray Data engine keeps and rejects the same records as the local engine, record for record, on a
local Ray instance with 2 CPUs (skips where Ray is not installed: `pip install mtsft[ray]`)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.ray   # run by run_tests.sh under CI=true (or MTSFT_RAY=1): its own step

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'mtsft[ray]'")
pytest.importorskip("ray.data", reason="the Ray engine needs Ray Data: pip install 'mtsft[ray]'")

from mtsft.data.config import CurateConfig  # noqa: E402
from mtsft.data.curate import curate_files  # noqa: E402
from mtsft.data.engine_ray import curate_ray  # noqa: E402
from mtsft.records import write_jsonl  # noqa: E402
from mtsft.tasks.synth import synth_records  # noqa: E402


def _outcomes(folder) -> dict[str, tuple]:
    out = {}
    for line in open(folder / "kept.jsonl", encoding="utf-8"):
        r = json.loads(line)
        out[r["id"]] = ("kept",)
    for line in open(folder / "rejected.jsonl", encoding="utf-8"):
        r = json.loads(line)
        out[r["id"]] = ("rejected", r["meta"]["rejected"]["round"], r["meta"]["rejected"]["reason"])
    return out


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_engine_agrees_with_the_local_engine_record_for_record(local_ray, tmp_path):
    records = synth_records(500, seed=11)
    for i, r in enumerate(records):
        if i % 2:
            r.pop("task")
    padded = json.loads(json.dumps(records[0]))
    padded["id"], padded["messages"][0]["content"] = "padded-copy", "  " + padded["messages"][0]["content"] + " "
    write_jsonl(tmp_path / "in.jsonl", [padded] + records)
    cfg = CurateConfig.model_validate({"progress": False, "workers": 1, "validate": {"fail_on_error": False}})
    local = curate_files([str(tmp_path / "in.jsonl")], cfg, tmp_path / "local", log=None)
    remote = curate_ray([str(tmp_path / "in.jsonl")], cfg, tmp_path / "ray", shards="parquet", log=None)
    assert _outcomes(tmp_path / "ray") == _outcomes(tmp_path / "local")
    assert (tmp_path / "ray" / "kept.jsonl").read_bytes() == (tmp_path / "local" / "kept.jsonl").read_bytes()
    assert len(remote.kept) == len(local.kept)
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["ray"]["kept_shards"]["records"] == len(remote.kept)
    assert any(p.suffix == ".parquet" for p in (tmp_path / "ray" / "kept").iterdir())


def test_ray_group_by_gives_the_local_groups(local_ray):
    """The global steps' group-by (`parallel.groups_of`) on Ray Data: the same groups, members and order as
    the local dict, for every key kind the rounds use (hex strings, labels, tuples, compound band keys)."""
    import numpy as np

    from mtsft.data.engine_ray import ray_groups_of
    from mtsft.data.parallel import groups_of

    rng = np.random.default_rng(0)
    cases = [
        [f"{k:x}" for k in rng.integers(0, 300, 2_000)],                            # exact-dedup hashes
        rng.integers(0, 50, 1_000),                                                   # cluster labels
        [(int(k), ("3", "4"), "tail") for k in rng.integers(0, 40, 500)],           # conflict keys
        np.stack([rng.integers(0, 4, 3_000), rng.integers(0, 2**63, 3_000) % 200], axis=1).astype(np.uint64)
        | np.array([0, 2**63], dtype=np.uint64),                                      # (band, key), high bit set
    ]
    for keys, min_size in zip(cases, (2, 2, 1, 2)):
        local = [g.tolist() for g in groups_of(keys, min_size)]
        assert local and [g.tolist() for g in ray_groups_of(keys, min_size)] == local
