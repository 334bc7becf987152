"""The classify round's batch n-gram counting (issue 29.5) gives scikit-learn's matrices exactly, so the
curated files are byte for byte those of scikit-learn's own (slower) path."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from mtsft.data import classify
from mtsft.data.config import CurateConfig
from mtsft.data.curate import curate_files
from mtsft.data.shingles import char_wb_counts, murmur3_32, word_ngram_counts
from mtsft.records import prompt, write_jsonl
from mtsft.tasks.synth import synth_records

TRICKY = ["", "   ", "a", "ab", "A\u03a3 b\u03a3", "\u0130x", "\t\n", "x\u3000y  z\n\nw", "🙂🙂 ok 🙂", "\u03a3",
          "写一首关于秋天的诗，不超过四行。", "Translate 'bonjour' to English!!", "tl;dr: x_y 42 3.14", "Ü ß ﬁ ǅ"]


def _texts() -> list[str]:
    return TRICKY + [prompt(r) for r in synth_records(300, seed=3)]


def _same(a, b) -> bool:
    return (type(a) is type(b) and a.dtype == b.dtype and a.indices.dtype == b.indices.dtype
            and all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("indptr", "indices", "data")))


def test_murmur3_matches_scikit_learns_hash():
    rng = random.Random(0)
    strings = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))) for _ in range(2_000)]
    buf = np.frombuffer(b"".join(strings) + b"\0" * 4, dtype=np.uint8)
    lengths = np.array([len(s) for s in strings])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    assert murmur3_32(buf, starts, lengths).tolist() == [murmurhash3_32(s, 0) for s in strings]


@pytest.mark.parametrize("bits,max_n", [(18, 3), (16, 3), (12, 2), (10, 1)])
def test_char_wb_counts_are_scikit_learns_matrix(bits, max_n):
    texts = _texts()
    for docs in (texts, [t[:30] for t in texts], [t[-30:] for t in texts]):
        want = HashingVectorizer(n_features=2**bits, alternate_sign=False, norm=None, analyzer="char_wb",
                                 ngram_range=(1, max_n)).transform(docs)
        assert _same(char_wb_counts(docs, 2**bits, max_n), want)


@pytest.mark.parametrize("max_n", [1, 2])
def test_word_ngram_counts_are_scikit_learns_matrix(max_n):
    pattern = r"(?u)\b\w+\b"
    want = HashingVectorizer(n_features=2**16, alternate_sign=False, norm=None, analyzer="word",
                             ngram_range=(1, max_n), token_pattern=pattern).transform(_texts())
    assert _same(word_ngram_counts(_texts(), 2**16, pattern, max_n), want)


def test_classifier_features_are_the_feature_unions():
    union = classify._vectorizer()
    views = [classify.instruction_view(t) for t in _texts()]
    assert _same(classify.hashed_counts(union, views), union.transform(views))


def test_curated_files_are_byte_identical_to_scikit_learns_counting(tmp_path, monkeypatch):
    records = synth_records(300, seed=7)
    for r in records[::2]:
        r.pop("task")  # unlabeled: the classifier decides them
    write_jsonl(tmp_path / "in.jsonl", records)
    cfg = CurateConfig.model_validate({"progress": False, "workers": 1, "validate": {"fail_on_error": False}})
    curate_files([str(tmp_path / "in.jsonl")], cfg, tmp_path / "fast", log=None)
    monkeypatch.setattr(classify, "hashed_counts", lambda union, views: union.transform(views))
    curate_files([str(tmp_path / "in.jsonl")], cfg, tmp_path / "sklearn", log=None)
    for name in ("kept.jsonl", "rejected.jsonl", "review.jsonl"):
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "sklearn" / name).read_bytes(), name


def test_quality_score_is_numpys_mean_bit_for_bit():
    """The score is summed in plain floats now; it must round exactly as numpy's mean and clip did."""
    from mtsft.data.quality import quality_score

    rng = random.Random(1)
    record = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    for _ in range(20_000):
        repetition, verified = rng.random(), rng.choice([None, rng.random(), 0.0, 1.0, 1 / 3])
        relative = rng.choice([rng.random() * 3, rng.random() * 1e-6, 1.0, 0.5, 2.0, 1e9 * rng.random()])
        parts = [1.0 - repetition, float(np.clip(min(relative, 1.0 / max(relative, 1e-9)) * 2, 0.0, 1.0))]
        parts += [] if verified is None else [verified]
        assert quality_score(record, verified, relative, repetition) == round(float(np.mean(parts)), 4)
