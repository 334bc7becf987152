"""Eval generation (issue 29): the running batch, where finished rows leave and waiting prompts join, gives
the same greedy answers as transformers' `generate` one prompt at a time."""

from __future__ import annotations

import copy

import pytest
import torch

from mtsft.eval.generate import generate, generate_with_transformers

WORDS = "the cat sat on a mat while rain fell over the old town and its long grey hills".split()


@pytest.fixture
def varied_model(tiny_model):
    """The tiny model with larger random weights: the default init answers newline after newline, which
    would make every comparison trivially equal."""
    model = tiny_model
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.3)
    return model.eval()


def chat_prompts(tokenizer, lengths: list[int]) -> list[str]:
    texts = [" ".join(WORDS[i % len(WORDS)] for i in range(n)) for n in lengths]
    return [tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False,
                                          add_generation_prompt=True) for t in texts]


def count_rows_per_forward(model, monkeypatch) -> list[int]:
    """The rows of every forward pass the model runs from now on (prefills and decoding steps), in order."""
    rows: list[int] = []
    forward = model.forward

    def counting(*args, **kwargs):
        rows.append(kwargs["input_ids"].shape[0])
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", counting)
    return rows


def one_at_a_time(model, tokenizer, prompts, caps):
    return generate_with_transformers(model, tokenizer, prompts, max_new_tokens=caps, batch_size=1)


def test_batched_answers_equal_one_at_a_time_for_prompts_of_very_different_lengths(tokenizer, varied_model):
    prompts = chat_prompts(tokenizer, [1, 250, 7, 120, 3, 60, 400])
    expected = one_at_a_time(varied_model, tokenizer, prompts, 10)
    assert all(expected) and len(set(expected)) == len(expected)
    assert generate(varied_model, tokenizer, prompts, max_new_tokens=10, batch_size=3) == expected
    raw = [" ".join(WORDS[(i + k) % len(WORDS)] for k in range(n)) for i, n in enumerate([2, 90, 30, 200, 5])]
    assert generate(varied_model, tokenizer, raw, max_new_tokens=8, batch_size=2) == \
        one_at_a_time(varied_model, tokenizer, raw, 8)  # no shared start: nothing prefilled once


def test_rows_finishing_at_different_steps_give_the_same_answers(tokenizer, varied_model):
    """Per-prompt caps and an end-of-turn token met mid-answer: rows leave the batch at different steps and
    waiting prompts (batch of 2) join the ones still running."""
    prompts = chat_prompts(tokenizer, [5, 90, 12, 300, 2, 40, 160, 25])
    caps = [1, 9, 3, 14, 2, 7, 5, 11]
    expected = one_at_a_time(varied_model, tokenizer, prompts, caps)
    assert generate(varied_model, tokenizer, prompts, max_new_tokens=caps, batch_size=2) == expected
    # batch of 8: a finished row stays (its tokens ignored) until a quarter of the batch has finished
    assert generate(varied_model, tokenizer, prompts, max_new_tokens=caps, batch_size=8) == expected
    # make a token the model writes early in some answers the end-of-turn token
    ids = [tokenizer(a, add_special_tokens=False)["input_ids"] for a in
           one_at_a_time(varied_model, tokenizer, prompts, 14)]
    stopping = copy.deepcopy(tokenizer)
    stopping.eos_token = tokenizer.convert_ids_to_tokens(ids[1][3])
    expected = one_at_a_time(varied_model, stopping, prompts, 14)
    assert len({len(a) for a in expected}) > 3  # answers of many lengths
    assert generate(varied_model, stopping, prompts, max_new_tokens=14, batch_size=3) == expected


def test_finished_rows_leave_the_running_batch(tokenizer, varied_model, monkeypatch):
    """A long answer does not hold finished rows: each decoding step runs only the rows still writing."""
    prompts = chat_prompts(tokenizer, [4, 6, 8, 10])
    caps = [1, 2, 3, 12]
    rows_per_step = count_rows_per_forward(varied_model, monkeypatch)
    generate(varied_model, tokenizer, prompts, max_new_tokens=caps, batch_size=4)
    assert rows_per_step[:2] == [1, 4]  # the prompts' shared system turn once, then one prefill of all four
    assert sum(rows_per_step[2:]) == sum(c - 1 for c in caps)  # then only the tokens each row still needs
    assert rows_per_step[-1] == 1


def test_a_kv_budget_bounds_the_rows_of_long_prompts_and_keeps_the_answers(tokenizer, varied_model, monkeypatch):
    """Rows join only while rows x (longest prompt + cap) fits KV_BYTES: long prompts decode a few at a time,
    short ones many, and every answer is the one a prompt gets alone."""
    import mtsft.eval.generate as gen

    prompts = chat_prompts(tokenizer, [3, 5, 8, 4, 6, 300, 280, 320, 310])
    expected = one_at_a_time(varied_model, tokenizer, prompts, 6)
    longest = max(len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts) + 6
    monkeypatch.setattr(gen, "KV_BYTES", 2 * longest * gen.kv_bytes_per_token(varied_model))  # two long rows
    rows_per_step = count_rows_per_forward(varied_model, monkeypatch)
    assert generate(varied_model, tokenizer, prompts, max_new_tokens=6, batch_size=16) == expected
    assert max(rows_per_step) >= 5          # the five short prompts together
    long_steps = rows_per_step[-6:]         # the last prompts decoded are the longest (sorted by length)
    assert max(long_steps) <= 2
