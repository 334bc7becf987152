"""The Ray Data engine keeps and rejects the same records as the local engine, record for record, on a
local Ray instance with 2 CPUs (skips where Ray is not installed: `pip install mtsft[ray]`)."""

from __future__ import annotations

import json

import pytest

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
