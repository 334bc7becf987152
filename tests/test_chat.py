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
