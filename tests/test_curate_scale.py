"""Curation at scale: the same result whatever the worker count, every round on every record, and
duplicate groups keeping their cleanest member (hand-written records)."""

from __future__ import annotations

import json

import pytest

from mtsft.data.common import curate_meta
from mtsft.data.config import CurateConfig, DedupConfig
from mtsft.data.curate import curate_files
from mtsft.data.dedup import dedup_round
from mtsft.data.parallel import map_chunks
from mtsft.records import write_jsonl
from mtsft.tasks.synth import synth_records


def _record(rid: str, question: str, answer: str, quality: float = 0.9) -> dict:
    r = {"id": rid, "task": "open_qa", "lang": "en", "messages": [
        {"role": "user", "content": question}, {"role": "assistant", "content": answer}], "meta": {}}
    curate_meta(r)["quality"] = quality
    return r


def test_exact_duplicates_keep_the_clean_copy_not_the_padded_one():
    padded = _record("padded", "  What is the capital of France?  ", "The capital of France is Paris.\n\n")
    clean = _record("clean", "What is the capital of France?", "The capital of France is Paris.")
    res = dedup_round([padded, clean], DedupConfig(), show=False)
    assert [r["id"] for r in res.kept] == ["clean"]
    assert res.rejected[0]["meta"]["rejected"] == {"round": "dedup", "reason": "exact_duplicate", "duplicate_of": "clean"}


def test_padding_outweighs_a_slightly_higher_quality_score():
    """The padded copy's extra characters can move its length score up; it still loses to the clean one."""
    padded = _record("padded", "How many legs does a spider have?\t", " A spider has eight legs. ", quality=0.95)
    clean = _record("clean", "How many legs does a spider have?", "A spider has eight legs.", quality=0.93)
    res = dedup_round([padded, clean], DedupConfig(), show=False)
    assert [r["id"] for r in res.kept] == ["clean"]


def test_near_duplicates_keep_the_clean_member():
    q = "Explain in two sentences why the sky looks blue during the day and red at sunset, please."
    a = ("Sunlight scatters off air molecules, and blue light scatters the most, so the sky looks blue. "
         "At sunset light crosses more air, the blue is scattered away and the reds remain.")
    padded = _record("padded", q + "  ", "\n" + a + "   ")
    clean = _record("clean", q.replace("please.", "please!"), a)
    res = dedup_round([padded, clean], DedupConfig(), show=False)
    assert [r["id"] for r in res.kept] == ["clean"]
    assert res.rejected[0]["meta"]["rejected"]["reason"] in ("near_duplicate", "exact_duplicate")


def test_among_clean_copies_the_better_scored_one_stays():
    low, high = _record("low", "Name a prime number.", "7", 0.4), _record("high", "name a prime number.", "7", 0.8)
    assert [r["id"] for r in dedup_round([low, high], DedupConfig(), show=False).kept] == ["high"]


def _square_lengths(records):
    return [len(r) ** 2 for r in records]


def test_map_chunks_keeps_input_order_whatever_the_workers():
    items = ["x" * (i % 17) for i in range(5_003)]
    one = map_chunks(_square_lengths, items, workers=1, chunk=100)
    assert one == [len(x) ** 2 for x in items]
    assert map_chunks(_square_lengths, items, workers=2, chunk=100) == one


@pytest.fixture(scope="module")
def synth_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "in.jsonl"
    records = synth_records(700, seed=5)
    for i, r in enumerate(records):
        if i % 2:
            r.pop("task")  # half unlabeled: the classifier labels them
    write_jsonl(path, records)
    return path


def _run(path, out, workers):
    cfg = CurateConfig.model_validate({"progress": False, "workers": workers, "validate": {"fail_on_error": False}})
    return curate_files([str(path)], cfg, out, log=None)


@pytest.fixture(scope="module")
def two_workers(synth_file, tmp_path_factory):
    """The 700 records curated once with 2 workers, shared by the tests that read the result."""
    out = tmp_path_factory.mktemp("w2")
    return _run(synth_file, out, 2), out


def test_kept_file_is_byte_identical_whatever_the_worker_count(synth_file, two_workers, tmp_path):
    _run(synth_file, tmp_path / "w1", 1)
    for name in ("kept.jsonl", "rejected.jsonl"):
        assert (tmp_path / "w1" / name).read_bytes() == (two_workers[1] / name).read_bytes(), name


def test_manifest_shows_every_round_ran_on_every_record(two_workers):
    res, out = two_workers
    manifest = json.loads((out / "manifest.json").read_text())
    rounds = manifest["rounds"]
    assert [r["name"] for r in rounds] == ["classify", "quality", "conflicts", "dedup", "balance"]
    assert rounds[0]["entered"] == manifest["inputs"] == 700
    for before, after in zip(rounds, rounds[1:]):  # each round saw every record the one before kept
        assert after["entered"] == before["kept"] + before["added"]
    assert manifest["engine"] == "local" and res.inputs == 700
    code = [r for r in res.kept if r.get("task") == "code" and "upsampled" not in r["meta"]]
    assert code, "the synth set has code records"
    # the code verifier ran on every code record (no probe cap): its score is part of the quality score
    assert manifest["rounds"][1]["notes"]["verifier_skipped"] == []
