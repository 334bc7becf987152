"""`mtsft chat`: scripted mode (one message a line in, one JSON answer a line out), commands, /save, tags."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from serve_helpers import loaded_tiny

from mtsft.eval.generate import generate
from mtsft.records import validate_messages
from mtsft.serve.chat import ChatSession, run_script
from mtsft.serve.session import render


@pytest.fixture
def session(tokenizer):
    return ChatSession(loaded_tiny(tokenizer), max_new_tokens=8)


def script(session, text, **kw):
    out, err = io.StringIO(), io.StringIO()
    code = run_script(session, io.StringIO(text), out=out, err=err, **kw)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_one_json_answer_per_message_and_multi_turn_context(session):
    code, rows, _ = script(session, "hi\n\nwhat did I say?\n")
    assert code == 0 and len(rows) == 2
    assert all(r["answer"] and r["finish_reason"] == "length" and r["tokens"] == 8 for r in rows)
    # the second answer saw the first turn: it is the greedy answer to the whole conversation
    convo = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": rows[0]["answer"]},
             {"role": "user", "content": "what did I say?"}]
    loaded = session.loaded
    again = generate(loaded.model, loaded.tokenizer, [render(loaded, convo, None)], max_new_tokens=8)[0]
    assert rows[1]["answer"] == again


def test_exit_stops_reading_and_reset_forgets(session):
    code, rows, _ = script(session, "hi\n/reset\nhi\n/exit\nnever answered\n")
    assert code == 0 and len(rows) == 2
    assert rows[0]["answer"] == rows[1]["answer"]  # same prompt after /reset: same greedy answer
    assert len(session.turns) == 2


def test_system_prompt_changes_the_prompt(session):
    script(session, "/system Answer in French.\nhi\n")
    assert session.messages()[0] == {"role": "system", "content": "Answer in French."}
    _, rows_plain, _ = script(ChatSession(session.loaded, max_new_tokens=8), "hi\n")
    _, rows_sys, _ = script(ChatSession(session.loaded, max_new_tokens=8, system="Answer in French."), "hi\n")
    assert rows_plain[0]["answer"] != rows_sys[0]["answer"]


def test_task_forces_the_tag_the_run_would_use(session):
    _, rows, err = script(session, "/task translation\nhello there\n")
    assert rows[0]["tag"] == "translation" and "task: translation" in err
    assert session.loaded.tag_mode == "none"  # the model was trained without tags: forcing one uses the system tag
    assert "Task: translation" in render(session.loaded, session.messages()[:-1], "translation", forced=True)
    assert "Task: translation" not in render(session.loaded, session.messages()[:-1], "translation")
    _, _, err = script(session, "/task juggling\n")
    assert "unknown task 'juggling'" in err


def test_saved_record_carries_the_task_its_answers_were_tagged_with(session, tmp_path):
    path = tmp_path / "c.jsonl"
    script(session, f"hi\n/task translation\n/save {path}\n/reset\nhello\n/save {path}\n")
    untagged, tagged = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert untagged["task"] is None  # answered before /task: not a translation record
    assert tagged["task"] == "translation"


def test_prefix_mode_run_is_tagged_like_training(tokenizer):
    loaded = loaded_tiny(tokenizer, tag_mode="prefix")
    s = ChatSession(loaded, max_new_tokens=4, forced_task="math")
    assert "[math] what is 2+2?" in render(loaded, [{"role": "user", "content": "what is 2+2?"}], "math")
    _, rows, _ = script(s, "what is 2+2?\n")
    assert rows[0]["tag"] == "math"


def test_save_appends_a_schema_record(session, tmp_path):
    path = tmp_path / "convo.jsonl"
    _, rows, err = script(session, f"/system Be nice.\nhi\n/save {path}\nmore\n/save {path}\n")
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 and "saved to" in err
    rec = lines[1]
    assert set(rec) >= {"id", "messages", "task", "lang", "source", "reference", "meta"}
    assert validate_messages(rec["messages"])
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert rec["messages"][2]["content"] == rows[0]["answer"] and rec["source"] == "mtsft chat"
    _, _, err = script(ChatSession(session.loaded), f"/save {tmp_path / 'empty.jsonl'}\n")
    assert "nothing to save" in err


def test_unknown_command_is_reported_not_sent(session):
    _, rows, err = script(session, "/bogus\n")
    assert rows == [] and "unknown command /bogus" in err and session.turns == []


def test_show_task_uses_the_crosstalk_judge(session, monkeypatch):
    import mtsft.eval.judge as judge_mod

    seen = {}

    def fake_judge(prompt, output, intended=None):
        seen.update(prompt=prompt, output=output, intended=intended)
        return judge_mod.Verdict("open_qa", 0.9, True, "asked translation; performs open_qa", intended="translation")

    monkeypatch.setattr(judge_mod, "judge", fake_judge)
    _, rows, _ = script(session, "/task translation\nTranslate: what is the capital of France?\n", show_task=True)
    assert rows[0]["performed"]["task"] == "open_qa" and rows[0]["performed"]["crossed"] is True
    assert seen["intended"] == "translation" and seen["output"] == rows[0]["answer"]
    assert seen["prompt"][-1] == {"role": "user", "content": "Translate: what is the capital of France?"}


def test_cli_chat_scripted_answers_and_exits_0(tmp_path):
    """`echo -e "hi\\n/exit" | mtsft chat`, as a user runs it (tiny model: its answers are blank lines)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "mtsft", "chat", "--model", "tiny", "--max-new-tokens", "4"],
                          input="hi\n你好\n/exit\nnot read\n", capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 2 and all(set(r) >= {"answer", "finish_reason"} for r in rows)


# ---- the model's escape sequences never reach the terminal (issue 26) --------------------------------------

class ScriptedStream:
    """What `stream_generate` returns, with pieces the test chose (a model that writes escape sequences)."""

    def __init__(self, pieces):
        from mtsft.eval.generate import StreamResult

        self.pieces = pieces
        self.result = StreamResult("".join(pieces).strip(), "stop", 1, len(pieces))

    def __iter__(self):
        return iter(self.pieces)

    def close(self):
        pass


def terminal_output(session, monkeypatch, pieces) -> str:
    """What `mtsft chat` writes to the terminal when the model streams `pieces` for one message."""
    from rich.console import Console

    from mtsft.serve.chat import run_terminal

    console = Console(file=io.StringIO(), force_terminal=False, color_system=None, width=300)
    typed = ["hi"]

    def read_line(*_):
        if not typed:
            raise EOFError  # Ctrl-D
        return typed.pop(0)

    monkeypatch.setattr(console, "input", read_line)

    def stream(text):
        session.turns.append({"role": "user", "content": text})
        session.tasks_used.append(None)
        return None, ScriptedStream(pieces)

    monkeypatch.setattr(session, "stream", stream)
    assert run_terminal(session, console) == 0
    return console.file.getvalue()


def control_chars(text: str) -> set[str]:
    return {c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f}


ESCAPES = {
    "clear_screen": ["Sure.", "\x1b[2J\x1b[3J\x1b[H", "Done."],
    "window_title": ["A title: ", "\x1b]0;you have been pwned\x07", "ok"],
    "osc52_clipboard": ["copied: ", "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07", "!"],
    "osc8_hidden_link": ["\x1b]8;;https://evil.example/\x1b\\", "click here", "\x1b]8;;\x1b\\"],
    "c1_csi_and_osc": ["\x9b2J", "\x9d0;title\x9c", "plain"],
    "split_across_pieces": ["safe ", "\x1b", "]52;c;", "cm0gLXJm", "\x07", " \x1b[", "2J end"],
    "cursor_and_carriage_return": ["visible\r", "\x08\x08\x1b[1A", "hidden\x7f"],
}


@pytest.mark.parametrize("name", list(ESCAPES))
def test_chat_neutralises_the_models_escape_sequences(session, monkeypatch, name):
    pieces = ESCAPES[name]
    out = terminal_output(session, monkeypatch, pieces)
    assert control_chars(out) == set(), f"{name}: {out!r}"
    for c in control_chars("".join(pieces)):  # each control character is shown as its escape, e.g. \x1b
        assert f"\\x{ord(c):02x}" in out
    assert session.turns[-1]["content"] == "".join(pieces).strip()  # the conversation keeps the exact text


def test_scripted_chat_json_has_no_raw_control_characters(session, monkeypatch):
    answer = "\x1b]0;title\x07 \x9b2J \x9d52;c;eA==\x9c ok"
    monkeypatch.setattr(session, "stream", lambda text: (session.turns.append({"role": "user", "content": text})
                                                         or session.tasks_used.append(None)
                                                         or (None, ScriptedStream([answer]))))
    out = io.StringIO()
    run_script(session, io.StringIO("hi\n"), out=out, err=io.StringIO())
    assert control_chars(out.getvalue()) == set()
    assert json.loads(out.getvalue())["answer"] == answer.strip()  # the same text, escaped in JSON
