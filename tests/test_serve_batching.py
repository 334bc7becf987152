"""Continuous batching in the serving engine (issue 29.4): a request joins the running batch at its next step,
greedy answers stay those of one request at a time, a client that goes away frees its row, and the API
tokenizes off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from serve_helpers import chatty_tiny, loaded_tiny, running_server

from mtsft.eval.generate import generate_with_transformers, render_prompts
from mtsft.serve.engine import Engine, Job

QUESTIONS = ("hi", "把这句话翻译成英文：我喜欢猫，也喜欢狗。", "Write a long story about rain over the old harbour town.",
             "2+2?")


@pytest.fixture(scope="module")
def slow_model(tokenizer):
    """The chatty tiny model, 5 ms a forward (sleeping, so the GIL is free): a request sent while another
    decodes arrives mid-answer, not after it."""
    model = chatty_tiny(tokenizer)
    model.register_forward_pre_hook(lambda *_: time.sleep(0.005))
    return model


@pytest.fixture(scope="module")
def prompts(tokenizer):
    """The last one has its own system turn: it does not start with the template's default start, which the
    engine prefills once for the others."""
    convs = [[{"role": "user", "content": q}] for q in QUESTIONS]
    convs[-1].insert(0, {"role": "system", "content": "Answer in one word."})
    return render_prompts(tokenizer, convs)


@contextlib.contextmanager
def engine_on(model, tokenizer, **kw):
    engine = Engine(model, tokenizer, batch_wait=0.01, log=lambda *a: None, **kw).start()
    try:
        yield engine
    finally:
        engine.stop()


class Client:
    """One request to the engine and what came back: the time of its first piece, of its end, its result."""

    def __init__(self, engine: Engine, prompt: str, max_new_tokens: int, **kw):
        self.job = engine.submit(Job(prompt, max_new_tokens, loop=asyncio.get_running_loop(), events=asyncio.Queue(),
                                     **kw))
        self.pieces: list[str] = []
        self.first_piece = self.ended = None
        self.result = None
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        while True:
            kind, value = await self.job.events.get()
            if kind == "text":
                self.pieces.append(value)
                self.first_piece = self.first_piece or time.monotonic()
                continue
            assert kind == "done", value
            self.ended, self.result = time.monotonic(), value
            return value

    async def has_pieces(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.pieces) < n:
            assert not self.task.done() and time.monotonic() < deadline, "the answer ended or stalled"
            await asyncio.sleep(0.002)


def one_at_a_time(model, tokenizer, prompt: str, n: int) -> str:
    """The baseline: transformers' own `generate`, this prompt alone."""
    return generate_with_transformers(model, tokenizer, [prompt], max_new_tokens=n, batch_size=1)[0]


def test_a_request_arriving_while_another_decodes_gets_its_first_token_before_the_first_finishes(
        slow_model, tokenizer, prompts):
    async def scenario(engine):
        first = Client(engine, prompts[2], 80)
        await first.has_pieces(3)
        second = Client(engine, prompts[0], 6)
        await asyncio.gather(first.task, second.task)
        return first, second

    with engine_on(slow_model, tokenizer) as engine:
        first, second = asyncio.run(scenario(engine))
    assert second.first_piece < first.ended and second.ended < first.ended
    assert first.result.completion_tokens == 80 and second.result.completion_tokens == 6
    assert engine.stats["largest_batch"] == 2


def test_greedy_answers_under_continuous_batching_equal_one_at_a_time(slow_model, tokenizer, prompts):
    caps = [40, 12, 24, 16]  # different prompt lengths, caps, and steps at which each joins

    async def scenario(engine):
        a = Client(engine, prompts[0], caps[0])
        await a.has_pieces(2)
        b = Client(engine, prompts[1], caps[1])
        await b.has_pieces(3)
        c, d = Client(engine, prompts[2], caps[2]), Client(engine, prompts[3], caps[3])  # prefilled together
        await asyncio.gather(a.task, b.task, c.task, d.task)
        return [a, b, c, d]

    with engine_on(slow_model, tokenizer) as engine:
        clients = asyncio.run(scenario(engine))
    for client, prompt, cap in zip(clients, prompts, caps):
        assert client.result.text == one_at_a_time(slow_model, tokenizer, prompt, cap) and client.result.text
        assert "".join(client.pieces).strip() == client.result.text
        assert client.result.completion_tokens == cap and client.result.finish_reason == "length"
    assert clients[1].ended < clients[0].ended  # a row that finishes leaves while others go on
    assert engine.stats["largest_batch"] >= 3


def test_sampled_rows_joining_a_greedy_row_keep_their_own_settings(slow_model, tokenizer, prompts):
    import torch

    torch.manual_seed(0)

    async def scenario(engine):
        greedy = Client(engine, prompts[2], 30)
        await greedy.has_pieces(2)
        hot = [Client(engine, prompts[2], 16, temperature=1.5, top_p=0.95) for _ in range(2)]
        await asyncio.gather(greedy.task, *(c.task for c in hot))
        return greedy, hot

    with engine_on(slow_model, tokenizer) as engine:
        greedy, hot = asyncio.run(scenario(engine))
    assert hot[0].first_piece < greedy.ended  # they did decode together
    assert greedy.result.text == one_at_a_time(slow_model, tokenizer, prompts[2], 30)
    assert hot[0].result.text != hot[1].result.text
    assert not greedy.result.text.startswith(hot[0].result.text)


def test_a_client_that_goes_away_frees_its_row_for_a_waiting_request(slow_model, tokenizer, prompts):
    async def scenario(engine):
        leaving, staying = Client(engine, prompts[2], 200), Client(engine, prompts[1], 200)
        await leaving.has_pieces(2)
        waiting = Client(engine, prompts[0], 5)  # the batch is full (max_batch 2): it waits for a row
        await asyncio.sleep(0.05)
        assert waiting.first_piece is None
        engine.cancel(leaving.job)
        await asyncio.gather(leaving.task, waiting.task, staying.task)
        return leaving, staying, waiting

    with engine_on(slow_model, tokenizer, max_batch=2) as engine:
        leaving, staying, waiting = asyncio.run(scenario(engine))
    assert leaving.result.finish_reason == "cancelled" and leaving.result.completion_tokens < 50
    assert waiting.first_piece < staying.ended  # it took the freed row, not the end of the batch
    assert staying.result.completion_tokens == 200
    assert engine.pending == 0 and engine.stats["cancelled"] == 1 and engine.stats["largest_batch"] == 2


class LoopWatchingTokenizer:
    """The tokenizer, noting every chat-template render or encoding done on a thread running an event loop."""

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer
        self.on_loop: list[str] = []

    def _note(self, what: str) -> None:
        with contextlib.suppress(RuntimeError):  # RuntimeError: no loop runs on this thread
            asyncio.get_running_loop()
            self.on_loop.append(what)

    def __call__(self, *args, **kwargs):
        self._note("encode")
        return self._tokenizer(*args, **kwargs)

    def apply_chat_template(self, *args, **kwargs):
        self._note("chat template")
        return self._tokenizer.apply_chat_template(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)


def test_the_api_renders_and_tokenizes_off_the_event_loop(tokenizer):
    httpx = pytest.importorskip("httpx")
    from dataclasses import replace

    from mtsft.serve.api import create_app

    loaded = loaded_tiny(tokenizer)
    watching = LoopWatchingTokenizer(tokenizer)
    app = create_app(replace(loaded, tokenizer=watching), log=lambda *a: None)
    with running_server(app) as url:
        r = httpx.post(f"{url}/v1/chat/completions", timeout=60,
                       json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
    assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] == 4
    assert watching.on_loop == []
