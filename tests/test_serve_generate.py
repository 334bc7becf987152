"""Streaming generation (`generate_stream_batch`): the same text as `generate`, each row on its own."""

from __future__ import annotations

import pytest

from serve_helpers import chatty_tiny

from mtsft.eval.generate import (StreamRequest, _held_back, generate, generate_stream_batch, render_prompts,
                                 stream_generate)


@pytest.fixture(scope="module")
def model(tokenizer):
    return chatty_tiny(tokenizer)


@pytest.fixture(scope="module")
def prompts(tokenizer):
    questions = ("hi", "把这句话翻译成英文：我喜欢猫。", "Write a long story about rain.")
    convs = [[{"role": "user", "content": q}] for q in questions]
    return render_prompts(tokenizer, convs)


def test_greedy_stream_matches_generate_and_pieces_add_up(model, tokenizer, prompts):
    expected = generate(model, tokenizer, prompts, max_new_tokens=24)
    pieces = [[] for _ in prompts]
    results = generate_stream_batch(model, tokenizer, [StreamRequest(p, 24, on_text=pieces[i].append)
                                                       for i, p in enumerate(prompts)])
    for exp, got, parts in zip(expected, results, pieces):
        assert got.text == exp and exp
        assert "".join(parts).strip() == got.text
        assert len(parts) >= 2  # streamed, not one piece at the end
        assert got.finish_reason == "length" and got.completion_tokens == 24


def test_usage_counts_prompt_tokens_without_padding(model, tokenizer, prompts):
    results = generate_stream_batch(model, tokenizer, [StreamRequest(p, 2) for p in prompts])
    for p, r in zip(prompts, results):
        assert r.prompt_tokens == len(tokenizer(p, add_special_tokens=False)["input_ids"])


def test_rows_stop_on_their_own_cap(model, tokenizer, prompts):
    results = generate_stream_batch(model, tokenizer, [StreamRequest(prompts[0], 3), StreamRequest(prompts[1], 11)])
    assert [r.completion_tokens for r in results] == [3, 11]
    assert all(r.finish_reason == "length" for r in results)


def test_stop_string_cuts_the_answer_and_never_leaks(model, tokenizer, prompts):
    full = generate(model, tokenizer, prompts[:1], max_new_tokens=24)[0]
    words = full.split()
    stop = words[len(words) // 2]
    pieces = []
    r = generate_stream_batch(model, tokenizer, [StreamRequest(prompts[0], 24, stop=[stop], on_text=pieces.append)])[0]
    assert r.finish_reason == "stop"
    assert r.text == full[:full.index(stop)].strip()
    assert stop not in "".join(pieces)


def test_held_back_keeps_a_possible_stop_prefix():
    assert _held_back("hello wor", ["world"]) == 3
    assert _held_back("hello", ["xyz"]) == 0
    assert _held_back("ab", ["abc", "b"]) == 2


def test_sampling_rows_differ_greedy_rows_do_not(model, tokenizer, prompts):
    import torch

    greedy = generate(model, tokenizer, prompts[:1], max_new_tokens=16)[0]
    torch.manual_seed(0)
    rows = [StreamRequest(prompts[0], 16), StreamRequest(prompts[0], 16, temperature=1.5, top_p=0.95),
            StreamRequest(prompts[0], 16, temperature=1.5, top_p=0.95)]
    results = generate_stream_batch(model, tokenizer, rows)
    assert results[0].text == greedy  # a greedy row in a sampled batch stays greedy
    assert results[1].text != results[2].text != greedy


def test_top_p_tiny_is_greedy(model, tokenizer, prompts):
    greedy = generate(model, tokenizer, prompts[:1], max_new_tokens=12)[0]
    r = generate_stream_batch(model, tokenizer, [StreamRequest(prompts[0], 12, temperature=1.0, top_p=1e-6)])[0]
    assert r.text == greedy


def test_a_cancelled_row_stops_and_others_go_on(model, tokenizer, prompts):
    seen = []
    rows = [StreamRequest(prompts[0], 40, on_text=seen.append, cancelled=lambda: len(seen) >= 2),
            StreamRequest(prompts[1], 40)]
    a, b = generate_stream_batch(model, tokenizer, rows)
    assert a.finish_reason == "cancelled" and a.completion_tokens < 10
    assert b.finish_reason == "length" and b.completion_tokens == 40


def test_stream_generate_iterates_pieces(model, tokenizer, prompts):
    stream = stream_generate(model, tokenizer, prompts[0], max_new_tokens=10)
    text = "".join(stream)
    assert stream.result is not None and text.strip() == stream.result.text
    assert stream.result.text == generate(model, tokenizer, prompts[:1], max_new_tokens=10)[0]
