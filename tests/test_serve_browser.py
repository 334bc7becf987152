"""The web chat page in a real headless Chromium: type a message, see the streamed answer, screenshot it.

Needs Debian's `chromium` and the `playwright` Python package (driving that browser through
executable_path: nothing is downloaded). Installing is set-up's work (`scripts/setup_env.sh` installs
chromium and fonts-noto-cjk when it runs as root); without the browser the tests skip and say so.
Set MTSFT_SCREENSHOT=path.png to keep the screenshot; MTSFT_BROWSER_MODEL=builtin uses the real model.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from serve_helpers import loaded_tiny, running_server

from mtsft.serve.api import create_app

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    exe = chromium()
    if exe is None:
        pytest.skip("no Chromium installed (scripts/setup_env.sh installs it as root: apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=FLAGS[1:], headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tokenizer):
    if os.environ.get("MTSFT_BROWSER_MODEL"):
        from mtsft.serve.session import load

        loaded = load(os.environ["MTSFT_BROWSER_MODEL"], log=lambda *a: None)
    else:
        loaded = loaded_tiny(tokenizer)
    app = create_app(loaded, default_max_tokens=48, log=lambda *a: None)
    with running_server(app) as url:
        yield url, loaded


def test_type_a_message_and_see_the_streamed_answer(browser, server, tmp_path):
    import httpx

    url, loaded = server
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"{r.url} failed"))
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('#task option').length > 5")  # /api/info loaded
    page.fill("#system", "你是一个乐于助人的助手。")
    page.fill("#input", "你好！请用一句话介绍北京。")
    # count content updates while it streams: the answer must grow in more than one step
    page.evaluate("""() => { window.__updates = 0; new MutationObserver(() => window.__updates++)
        .observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true}); }""")
    page.press("#input", "Enter")
    page.wait_for_selector('[data-testid="answer"][data-done="true"]', timeout=120_000)
    user_text = page.inner_text(".msg.user")
    answer_el = page.locator('[data-testid="answer"]')
    answer = answer_el.evaluate("el => el.firstChild ? el.firstChild.textContent : ''")
    meta = page.inner_text('[data-testid="answer"] .meta')
    updates = page.evaluate("window.__updates")

    # the page shows what the API answers for the same conversation (greedy: the same text)
    body = {"messages": [{"role": "system", "content": "你是一个乐于助人的助手。"},
                         {"role": "user", "content": "你好！请用一句话介绍北京。"}], "max_tokens": 48}
    api = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=120).json()["choices"][0]["message"]["content"]
    shot = Path(os.environ.get("MTSFT_SCREENSHOT") or tmp_path / "chat.png")
    page.screenshot(path=str(shot), full_page=True)

    assert user_text == "你好！请用一句话介绍北京。"
    assert answer.strip() == api and api
    assert updates >= 3  # the answer arrived in pieces, not at once
    assert "tokens" in meta and "first token" in meta
    assert errors == []
    assert shot.stat().st_size > 10_000
    page.close()


def test_a_server_error_shows_in_the_page(browser, server):
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('#task option').length > 5")
    page.fill("#max-tokens", "5000")  # over the server's cap: a 400 the page must show
    page.fill("#input", "hello")
    page.press("#input", "Enter")
    page.wait_for_selector(".msg.error", timeout=30_000)
    assert "over this server's cap" in page.inner_text(".msg.error")
    page.close()
