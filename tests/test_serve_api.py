"""`mtsft serve`'s API: OpenAI shapes, streaming, validation with 4xx, keys, batching, the official client."""

from __future__ import annotations

import json
import threading
import time

import pytest

from serve_helpers import loaded_tiny, running_server

from mtsft.eval.generate import generate
from mtsft.serve.api import create_app
from mtsft.serve.session import render

httpx = pytest.importorskip("httpx")
KEY = "sk-test-0123456789"


@pytest.fixture(scope="module")
def loaded(tokenizer):
    return loaded_tiny(tokenizer)


@pytest.fixture(scope="module")
def server(loaded):
    app = create_app(loaded, max_tokens_cap=64, default_max_tokens=16, batch_wait=0.05, log=lambda *a: None)
    with running_server(app) as url:
        yield url, app


@pytest.fixture(scope="module")
def keyed_app(tokenizer):
    slow = loaded_tiny(tokenizer)
    # 5 ms a step, sleeping (so the GIL is free): 1000 tokens take seconds, and a client in this process
    # reads its chunks while they are made instead of after the whole answer
    slow.model.register_forward_pre_hook(lambda *_: time.sleep(0.005))
    app = create_app(slow, api_key=KEY, log=lambda *a: None)
    with running_server(app) as url:
        yield url, app


@pytest.fixture(scope="module")
def keyed(keyed_app):
    return keyed_app[0]


def chat(url, body, **kw):
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60, **kw)


def hi(**extra):
    return {"model": "tiny-test", "messages": [{"role": "user", "content": "hi"}], **extra}


def sse(url, body):
    chunks = []
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                chunks.append(line[6:])
    return chunks


def expected_answer(loaded, messages, n):
    return generate(loaded.model, loaded.tokenizer, [render(loaded, messages, None)], max_new_tokens=n)[0]


# ---- the happy path ------------------------------------------------------------------------------------

def test_completion_is_openai_shaped_and_is_the_greedy_answer(server, loaded):
    url, _ = server
    r = chat(url, hi(max_tokens=12))
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "length"
    assert choice["message"]["content"] == expected_answer(loaded, hi()["messages"], 12)
    assert body["usage"]["completion_tokens"] == 12
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + 12 and body["usage"]["prompt_tokens"] > 5


def test_streaming_sends_chunks_then_done_and_usage(server):
    url, _ = server
    chunks = sse(url, hi(max_tokens=12, stream=True, stream_options={"include_usage": True}))
    assert chunks[-1] == "[DONE]"
    events = [json.loads(c) for c in chunks[:-1]]
    content = [e["choices"][0]["delta"].get("content") for e in events if e["choices"]]
    assert sum(1 for c in content if c) >= 2  # at least two content chunks before [DONE]
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [e["choices"][0]["finish_reason"] for e in events if e["choices"]][-1] == "length"
    assert events[-1]["usage"]["completion_tokens"] == 12 and events[-1]["choices"] == []
    whole = chat(url, hi(max_tokens=12)).json()["choices"][0]["message"]["content"]
    assert "".join(c or "" for c in content).strip() == whole


def test_stop_sequence_and_max_tokens(server):
    url, _ = server
    full = chat(url, hi(max_tokens=20)).json()["choices"][0]["message"]["content"]
    stop = full.split()[2]
    r = chat(url, hi(max_tokens=20, stop=[stop])).json()
    assert r["choices"][0]["finish_reason"] == "stop"
    assert r["choices"][0]["message"]["content"] == full[:full.index(stop)].strip()
    assert chat(url, hi(max_tokens=3)).json()["usage"]["completion_tokens"] == 3


def test_models_and_health(server):
    url, _ = server
    models = httpx.get(f"{url}/v1/models").json()
    assert models["object"] == "list" and models["data"][0]["id"] == "tiny-test"
    health = httpx.get(f"{url}/health").json()
    assert health["status"] == "ok" and health["model"] == "tiny-test"


def test_openai_client_streaming_and_not(server):
    openai = pytest.importorskip("openai")
    url, _ = server
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi in Chinese: 你好"}]
    done = client.chat.completions.create(model="tiny-test", messages=msgs, max_tokens=10)
    assert done.choices[0].message.content and done.usage.completion_tokens == 10
    stream = client.chat.completions.create(model="tiny-test", messages=msgs, max_tokens=10, stream=True)
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 2 and "".join(pieces).strip() == done.choices[0].message.content
    assert [m.id for m in client.models.list()] == ["tiny-test"]


def test_concurrent_requests_are_batched_into_one_generate_call(server):
    url, app = server
    before = dict(app.state.engine.stats)
    body = hi(max_tokens=8)
    results = [None] * 6
    start = threading.Barrier(6)

    def go(i):
        start.wait()
        results[i] = chat(url, body)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(r.status_code == 200 for r in results)
    stats = app.state.engine.stats
    assert stats["requests"] - before["requests"] == 6
    assert stats["batches"] - before["batches"] < 6  # fewer generate calls than requests
    assert stats["largest_batch"] >= 2
    assert len({r.json()["choices"][0]["message"]["content"] for r in results}) == 1  # greedy: same answer


def test_a_client_that_disconnects_frees_its_slot(keyed_app):
    url, app = keyed_app
    engine = app.state.engine
    cancelled = engine.stats["cancelled"]
    auth = {"Authorization": f"Bearer {KEY}"}
    body = hi(max_tokens=1000, stream=True)
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, headers=auth, timeout=60) as r:
        content = 0
        for line in r.iter_lines():
            content += '"content": "' in line and '"content": ""' not in line
            if content >= 2:  # generating: leave now
                break
        assert engine.pending == 1
    deadline = time.monotonic() + 10
    while (engine.pending or engine.stats["cancelled"] == cancelled) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert engine.pending == 0
    assert engine.stats["cancelled"] == cancelled + 1  # its row stopped long before its 1000 tokens


# ---- bad requests: a 4xx with OpenAI's error shape, never a 500 -----------------------------------------

def assert_error(r, status, words):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) >= {"message", "type", "param", "code"}
    assert words.lower() in err["message"].lower(), err["message"]


def test_wrong_type_gets_400(server):
    url, _ = server
    assert_error(chat(url, hi(max_tokens="ten")), 400, "max_tokens")
    assert_error(chat(url, hi(temperature="hot")), 400, "temperature")
    assert_error(chat(url, {"messages": "hi"}), 400, "messages")
    assert_error(chat(url, hi(stream="yes")), 400, "stream")


def test_empty_messages_get_400(server):
    url, _ = server
    assert_error(chat(url, {"messages": []}), 400, "messages")
    assert_error(chat(url, {"messages": [{"role": "user", "content": "   "}]}), 400, "empty")
    assert_error(chat(url, {"messages": [{"role": "system", "content": "x"}]}), 400, "user message")


def test_unknown_role_gets_400(server):
    url, _ = server
    r = chat(url, {"messages": [{"role": "wizard", "content": "hi"}]})
    assert_error(r, 400, "messages.0.role")


def test_oversize_body_gets_413(server):
    url, _ = server
    big = {"messages": [{"role": "user", "content": "x" * (2 << 20)}]}
    assert_error(chat(url, big), 413, "limit")


def test_max_tokens_over_the_cap_gets_400(server):
    url, _ = server
    assert_error(chat(url, hi(max_tokens=65)), 400, "cap of 64")
    assert_error(chat(url, hi(max_tokens=0)), 400, "max_tokens")


def test_other_bad_requests_get_400_or_404(server):
    url, _ = server
    r = httpx.post(f"{url}/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(r, 400, "not valid JSON")
    assert_error(chat(url, hi(n=2)), 400, "n=1")
    assert_error(chat(url, hi(top_p=0)), 400, "top_p")
    assert_error(chat(url, hi(stop=["a", "b", "c", "d", "e"])), 400, "at most 4")
    assert_error(chat(url, hi(task="juggling")), 400, "unknown task")
    assert_error(httpx.get(f"{url}/v1/nothing"), 404, "not found")


def test_full_queue_gets_429(server):
    url, app = server
    engine = app.state.engine
    saved = engine._pending
    engine._pending = engine.max_pending  # every slot taken
    try:
        r = chat(url, hi())
    finally:
        engine._pending = saved
    assert_error(r, 429, "busy")
    assert chat(url, hi(max_tokens=2)).status_code == 200


# ---- keys ----------------------------------------------------------------------------------------------

def test_missing_key_gets_401(keyed):
    assert_error(chat(keyed, hi(max_tokens=2)), 401, "missing API key")
    assert_error(httpx.get(f"{keyed}/v1/models"), 401, "missing")


def test_wrong_key_gets_401_and_right_key_works(keyed):
    assert_error(chat(keyed, hi(max_tokens=2), headers={"Authorization": "Bearer sk-wrong"}), 401, "invalid API key")
    assert_error(chat(keyed, hi(max_tokens=2), headers={"Authorization": KEY}), 401, "invalid")  # no Bearer
    ok = chat(keyed, hi(max_tokens=2), headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200
    assert httpx.get(f"{keyed}/health").status_code == 200  # /health stays open


# ---- the web page ------------------------------------------------------------------------------------------

def test_web_page_and_assets_are_served_and_offline(server):
    url, _ = server
    page = httpx.get(f"{url}/")
    assert page.status_code == 200 and 'id="composer"' in page.text
    for name in ("app.js", "style.css"):
        asset = httpx.get(f"{url}/static/{name}")
        assert asset.status_code == 200 and len(asset.text) > 500
        assert "http://" not in asset.text and "https://" not in asset.text  # no CDN: works offline
    info = httpx.get(f"{url}/api/info").json()
    assert "translation" in info["tasks"] and info["report"] is None
    assert httpx.get(f"{url}/report").status_code == 404
    assert httpx.get(f"{url}/static/..%2Fapi.py").status_code == 404


def test_page_links_the_latest_diagnosis_report(loaded, tmp_path):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    run = tmp_path / "pipeline" / "train"
    run.mkdir(parents=True)
    (run / "run.json").write_text("{}")
    diag = tmp_path / "pipeline" / "diagnose"
    diag.mkdir()
    (diag / "diagnosis.json").write_text("{}")
    (diag / "report.html").write_text("<h1>Diagnosis: crosstalk 12%</h1>", encoding="utf-8")
    app = create_app(replace(loaded, run=run), log=lambda *a: None)
    with TestClient(app, base_url="http://127.0.0.1") as client:  # a keyless server answers only local Hosts
        assert client.get("/api/info").json()["report"] == "/report"
        r = client.get("/report")
        assert r.status_code == 200 and "crosstalk 12%" in r.text


def test_task_field_puts_the_task_tag_in_the_prompt(server, loaded):
    url, _ = server
    plain = chat(url, hi(max_tokens=2)).json()["usage"]["prompt_tokens"]
    tagged = chat(url, hi(max_tokens=2, task="translation")).json()["usage"]["prompt_tokens"]
    expected = render(loaded, hi()["messages"], "translation", forced=True)
    assert "Task: translation" in expected
    assert tagged == len(loaded.tokenizer(expected, add_special_tokens=False)["input_ids"]) != plain
