"""`mtsft serve` against hostile clients: half-sent requests, foreign Host headers (DNS rebinding),
cross-site form/text posts, and the API key kept off the command line (issue 26)."""

from __future__ import annotations

import socket
import time

import pytest
from typer.testing import CliRunner

from serve_helpers import loaded_tiny, running_server

from mtsft.cli import app as cli_app
from mtsft.serve.api import create_app, local_hosts

httpx = pytest.importorskip("httpx")
TIMEOUT = 1.0  # the test server's request deadline, seconds
KEY = "sk-test-0123456789"


@pytest.fixture(scope="module")
def strict(tokenizer):
    """A keyless server with a 1 s request deadline and a model that takes 5 ms a token."""
    loaded = loaded_tiny(tokenizer)
    loaded.model.register_forward_pre_hook(lambda *_: time.sleep(0.005))
    app = create_app(loaded, default_max_tokens=4, log=lambda *a: None)
    with running_server(app, request_timeout=TIMEOUT) as url:
        yield url


@pytest.fixture(scope="module")
def keyed(tokenizer):
    app = create_app(loaded_tiny(tokenizer), api_key=KEY, log=lambda *a: None)
    with running_server(app) as url:
        yield url


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5 * TIMEOUT)


def closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes `sock` (reads what it sent meanwhile); fails after 5x the deadline."""
    start = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        pytest.fail(f"the server still held the connection after {time.monotonic() - start:.1f}s")
    except ConnectionResetError:
        pass
    return time.monotonic() - start


HALF_HEADERS = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


# ---- half-sent requests are dropped ------------------------------------------------------------------------

def test_half_sent_headers_are_dropped_within_the_deadline(strict):
    with connect(strict) as sock:
        sock.sendall(HALF_HEADERS)  # no blank line: the headers never end
        assert closed_after(sock) < 4 * TIMEOUT


def test_headers_dripped_a_line_at_a_time_do_not_reset_the_deadline(strict):
    with connect(strict) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /v1/models HTTP/1.1\r\n")
        try:
            for i in range(int(6 * TIMEOUT / 0.2)):  # a header line every 0.2 s, for 6x the deadline
                time.sleep(0.2)
                sock.sendall(f"X-Drip-{i}: 1\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert closed_after(sock) + (time.monotonic() - start) < 4 * TIMEOUT + 1


def test_half_sent_body_is_dropped_within_the_deadline(strict):
    with connect(strict) as sock:
        sock.sendall(HALF_HEADERS + b"Content-Length: 100\r\n\r\n" + b'{"messages": [')
        assert closed_after(sock) < 4 * TIMEOUT


def test_a_silent_connection_is_dropped(strict):
    with connect(strict) as sock:
        assert closed_after(sock) < 4 * TIMEOUT


def test_an_answer_may_stream_for_longer_than_the_deadline(strict):
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 300, "stream": True}
    start, lines = time.monotonic(), []
    with httpx.stream("POST", f"{strict}/v1/chat/completions", json=body, timeout=60) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert time.monotonic() - start > TIMEOUT  # it outlived the request deadline ...
    assert lines[-1] == "data: [DONE]" and len(lines) > 100  # ... and came whole
    assert httpx.get(f"{strict}/health").status_code == 200


# ---- no key: only this machine's Host names, only JSON posts ------------------------------------------------

def hi():
    return {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.:1"])
def test_keyless_server_rejects_a_foreign_host(strict, host):
    """A page on evil.example that rebinds its name to 127.0.0.1 sends `Host: evil.example`."""
    assert httpx.get(f"{strict}/v1/models", headers={"Host": host}).status_code == 400
    assert httpx.post(f"{strict}/v1/chat/completions", json=hi(), headers={"Host": host}).status_code == 400


def test_keyless_server_answers_its_own_host_names(strict):
    port = strict.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost", "LOCALHOST"):
        assert httpx.get(f"{strict}/v1/models", headers={"Host": host}).status_code == 200, host


def test_the_bound_address_and_allowed_names_are_answered(tokenizer):
    from fastapi.testclient import TestClient

    assert local_hosts("0.0.0.0") == local_hosts("::") == ["localhost", "127.0.0.1", "[::1]"]
    assert local_hosts("fe80::1")[-1] == "[fe80::1]"
    app = create_app(loaded_tiny(tokenizer), allowed_hosts=local_hosts("192.168.1.5", ["chat.lan"]),
                     log=lambda *a: None)
    with TestClient(app, base_url="http://192.168.1.5:8000") as client:
        assert client.get("/v1/models").status_code == 200
        assert client.get("/v1/models", headers={"Host": "chat.lan:8000"}).status_code == 200
        assert client.get("/v1/models", headers={"Host": "192.168.1.6:8000"}).status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_keyless_server_refuses_a_post_that_is_not_json(strict, content_type):
    """A cross-site page can POST these with no CORS preflight; the body is valid JSON all the same."""
    import json

    headers = {"Content-Type": content_type} if content_type else {}
    r = httpx.post(f"{strict}/v1/chat/completions", content=json.dumps(hi()).encode(), headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["error"]["code"] == "unsupported_media_type"


def test_keyless_server_accepts_json_with_a_charset(strict):
    import json

    r = httpx.post(f"{strict}/v1/chat/completions", content=json.dumps(hi()).encode(),
                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] == 2


def test_a_keyed_server_needs_neither_check(keyed):
    """With a key the browser of a cross-site page cannot authenticate: any Host and body type work."""
    import json

    auth = {"Authorization": f"Bearer {KEY}"}
    r = httpx.post(f"{keyed}/v1/chat/completions", content=json.dumps(hi()).encode(),
                   headers={**auth, "Host": "chat.example.com", "Content-Type": "text/plain"})
    assert r.status_code == 200
    assert httpx.get(f"{keyed}/v1/models", headers={"Host": "chat.example.com"}).status_code == 401


# ---- the key stays off the command line --------------------------------------------------------------------

@pytest.fixture
def served(monkeypatch):
    """`mtsft serve` up to the point it would serve: what it would serve with."""
    import mtsft.serve.api as api
    import mtsft.serve.session as session

    calls = {}
    monkeypatch.setattr(session, "load", lambda *a, **k: "loaded")
    monkeypatch.setattr(api, "serve", lambda loaded, **kw: calls.update(kw))
    monkeypatch.delenv("MTSFT_API_KEY", raising=False)
    return calls


def serve_cli(*args, env=None):
    return CliRunner().invoke(cli_app, ["serve", "--model", "tiny", *args], env=env)


def test_api_key_file_is_read_and_gives_no_warning(served, tmp_path):
    keyfile = tmp_path / "key"
    keyfile.write_text(f"{KEY}\n")
    r = serve_cli("--api-key-file", str(keyfile))
    assert r.exit_code == 0, r.output
    assert served["api_key"] == KEY and "warning" not in r.output


def test_api_key_on_the_command_line_warns(served):
    r = serve_cli("--api-key", KEY)
    assert r.exit_code == 0, r.output
    assert served["api_key"] == KEY
    assert "warning:" in r.output and "visible to every user" in r.output and "--api-key-file" in r.output


def test_api_key_from_the_environment_gives_no_warning(served):
    r = serve_cli(env={"MTSFT_API_KEY": KEY})
    assert r.exit_code == 0, r.output
    assert served["api_key"] == KEY and "warning" not in r.output


def test_bad_api_key_files_are_one_line_errors(served, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    r = serve_cli("--api-key-file", str(empty))
    assert r.exit_code == 2 and "error:" in r.output and "empty" in r.output and str(empty) in r.output
    r = serve_cli("--api-key-file", str(tmp_path / "missing"))
    assert r.exit_code == 2 and "missing" in r.output
    keyfile = tmp_path / "key"
    keyfile.write_text(KEY)
    r = serve_cli("--api-key-file", str(keyfile), "--api-key", KEY)
    assert r.exit_code == 2 and "not both" in r.output
    assert served == {}  # nothing was served
