"""`analyze` and the MinHash/LSH building blocks."""

from __future__ import annotations

import copy

import numpy as np
from curate_fakes import generate

from mtsft.data.analyze import analysis_html, analyze
from mtsft.data.common import estimate_tokens
from mtsft.data.shingles import _datasketch_signatures, lsh_components, minhash_signatures, shingle_hashes


def test_analyze_counts_each_task_and_language():
    recs = generate({"sentiment": 6, "coding": 4})
    rows = {(r["task"], r["lang"]): r["count"] for r in analyze(recs, near=False, show=False).rows}
    assert rows[("sentiment", "all")] == 6 and rows[("coding", "zh")] == 2 and rows[("coding", "en")] == 2


def test_analyze_measures_the_exact_duplicate_rate():
    recs = generate({"sentiment": 4})
    recs.append({**copy.deepcopy(recs[0]), "id": "dup"})
    row = next(r for r in analyze(recs, near=False, show=False).rows if r["lang"] == "all")
    assert row["exact_dup_rate"] == 0.2


def test_analysis_page_embeds_its_plots():
    page = analysis_html(analyze(generate({"sentiment": 5, "coding": 5}), show=False), "t")
    assert page.count("data:image/png;base64,") == 4


def test_estimate_counts_han_characters_as_more_than_one_token():
    assert estimate_tokens("你好世界你好世界") > estimate_tokens("abcdefgh")


def test_shingles_of_a_text_shorter_than_k_are_the_text_itself():
    hashes, offsets = shingle_hashes(["ab", "abcdef"], 5)
    assert list(np.diff(offsets.astype(int))) == [1, 2]


def test_datasketch_fallback_estimates_like_rensa():
    texts = ["the quick brown fox jumps over the lazy dog", "the quick brown fox jumped over the lazy dog"]
    hashes, offsets = shingle_hashes(texts, 5)
    fallback = _datasketch_signatures(hashes, offsets, 128, 0)
    rensa = minhash_signatures(texts, 128, 5, 3, 0)
    assert abs((fallback[0] == fallback[1]).mean() - (rensa[0] == rensa[1]).mean()) < 0.15


def test_lsh_links_only_similar_rows():
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**32, size=(1000, 128), dtype=np.uint32)
    sigs[1] = sigs[0]
    sigs[2, :100] = sigs[0, :100]
    labels, _ = lsh_components(sigs, 16, 0.7)
    assert labels[0] == labels[1] == labels[2] and len(set(labels.tolist())) == 998


def test_analyze_uses_the_tokenizer_when_given(tokenizer):
    recs = generate({"sentiment": 3})
    analysis = analyze(recs, tokenizer, near=False, show=False)
    expected = len(tokenizer("\n".join(m["content"] for m in recs[0]["messages"]), add_special_tokens=False)["input_ids"])
    assert analysis.lengths["sentiment"][0] == expected and "tokenizer" in analysis.length_method
