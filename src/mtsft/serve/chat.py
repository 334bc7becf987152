"""`mtsft chat`: a multi-turn terminal chat with streamed tokens.

On a terminal: rich output, tokens as they come, commands
  /reset          forget the conversation (the system prompt and forced task stay)
  /system TEXT    set the system prompt (`/system` alone clears it)
  /task NAME      force a task tag (`/task auto` goes back to detection; `/task` lists the tasks)
  /save FILE      append the conversation to FILE as a record in the mtsft schema (JSONL)
  /exit           leave (also /quit, Ctrl-D)
When stdin is not a terminal: one message a line in, one JSON object a line out per answer
(`{"answer": ..., "finish_reason": ..., "task": ...}`), so multi-line answers survive and scripts can read
it; commands work the same and report on stderr.

The model's text never drives the terminal: every control character in it but newline and tab (ESC,
CSI, OSC, BEL, CR...) is printed as its escape, `\\x1b`, so a model that writes the sequences to clear the
screen, set the window title, fill the clipboard (OSC 52) or hide a link (OSC 8) shows them as text.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mtsft.eval import judge as crosstalk
from mtsft.eval.generate import stream_generate
from mtsft.serve.session import Loaded, check_task, render, task_for, task_names

HELP = "/reset  /system TEXT  /task NAME|auto  /save FILE  /exit"

# Unicode category Cc, C0 (U+0000-U+001F, with ESC) and DEL and C1 (U+0080-U+009F, with CSI U+009B and
# OSC U+009D, which some terminals act on even UTF-8 encoded), less newline and tab.
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_JSON_RAW_CONTROLS = re.compile("[\x7f-\x9f]")  # json.dumps escapes C0 itself, but writes DEL and C1 raw


def terminal_safe(text: str) -> str:
    """Model text with every control character but newline and tab written as its escape (`\\x1b`).

    Each control character is replaced on its own, so a sequence split across streamed pieces is as inert
    as a whole one: what follows a neutralised ESC is plain text, whichever piece it arrives in."""
    return _TERMINAL_CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def json_line(row: dict) -> str:
    """One JSON object, non-ASCII text kept readable, no raw control character (the same value decoded)."""
    text = json.dumps(row, ensure_ascii=False)
    return _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass
class ChatSession:
    loaded: Loaded
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    system: str | None = None
    forced_task: str | None = None
    turns: list[dict] = field(default_factory=list)  # user/assistant messages
    tasks_used: list[str | None] = field(default_factory=list)

    def messages(self) -> list[dict]:
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + [dict(m) for m in self.turns]

    def stream(self, text: str):
        """(the tag task used, a TextStream of the answer); call `commit(answer)` after reading it."""
        self.turns.append({"role": "user", "content": text})
        messages = self.messages()
        task = task_for(messages, self.loaded.tag_mode, self.forced_task)
        prompt = render(self.loaded, messages, task, forced=bool(self.forced_task))
        self.tasks_used.append(task)
        return task, stream_generate(self.loaded.model, self.loaded.tokenizer, prompt,
                                     max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                                     top_p=self.top_p)

    def commit(self, answer: str) -> None:
        self.turns.append({"role": "assistant", "content": answer})

    def undo(self) -> None:
        if self.turns and self.turns[-1]["role"] == "user":
            self.turns.pop()
            self.tasks_used.pop()

    def reset(self) -> None:
        self.turns.clear()
        self.tasks_used.clear()

    def record(self) -> dict:
        from mtsft.records import make_record

        # the task the answers were tagged with (one task for the whole conversation, else unlabeled)
        tasks_seen = set(self.tasks_used)
        return make_record(self.messages(), source="mtsft chat",
                           task=tasks_seen.pop() if len(tasks_seen) == 1 else None,
                           meta={"model": self.loaded.name, "tag_mode": self.loaded.tag_mode,
                                 "run": str(self.loaded.run) if self.loaded.run else None,
                                 "temperature": self.temperature})

    def save(self, path: str | Path) -> Path:
        if not any(m["role"] == "assistant" for m in self.turns):
            raise ValueError("nothing to save yet: the conversation has no answer")
        import shutil

        from mtsft.outputs import atomic_writer, check_file

        path = check_file(Path(path).expanduser(), flag="/save")  # never a FIFO, a device or a folder
        # appended by copying the file whole (atomically): a failed save leaves the earlier transcript intact
        with atomic_writer(path) as f:
            if path.exists():
                with open(path, "rb") as earlier:
                    shutil.copyfileobj(earlier, f)
                    if f.tell():
                        earlier.seek(-1, os.SEEK_END)
                        if earlier.read(1) != b"\n":   # the last line was left open: end it first
                            f.write(b"\n")
            f.write((json.dumps(self.record(), ensure_ascii=False) + "\n").encode("utf-8"))
        return path


def judge_task(messages: list[dict], answer: str, intended: str | None) -> dict:
    """What task the answer performs, by the crosstalk judge (prompt and output together), as stored in a
    row's `performed` (`Verdict.to_record`; diagnosis reads it back with `Verdict.from_record`)."""
    return crosstalk.judge(messages, answer, intended).to_record()


def command(session: ChatSession, line: str, say) -> bool:
    """Run a /command; False means leave."""
    name, _, arg = line.strip().partition(" ")
    arg = arg.strip()
    if name in ("/exit", "/quit"):
        return False
    if name == "/reset":
        session.reset()
        say("conversation cleared")
    elif name == "/system":
        session.system = arg or None
        say(f"system prompt: {arg}" if arg else "system prompt cleared")
    elif name == "/task":
        if not arg:
            say(f"task: {session.forced_task or 'auto'}; tasks: {', '.join(task_names())}")
        elif arg in ("auto", "none", "off"):
            session.forced_task = None
            say("task: auto" + ("" if session.loaded.tag_mode != "none" else " (this model uses no task tags)"))
        else:
            try:
                session.forced_task = check_task(arg)
                mode = session.loaded.tag_mode if session.loaded.tag_mode != "none" else "system"
                say(f"task: {arg} (tag mode {mode})")
            except ValueError as e:
                say(f"error: {e}")
    elif name == "/save":
        if not arg:
            say("usage: /save FILE")
        else:
            try:
                say(f"saved to {session.save(arg)}")
            except (ValueError, OSError) as e:
                say(f"error: {e}")
    elif name in ("/help", "/?"):
        say(HELP)
    else:
        say(f"unknown command {name}; commands: {HELP}")
    return True


def run_script(session: ChatSession, lines, out=sys.stdout, err=sys.stderr, show_task: bool = False) -> int:
    """Non-terminal mode: one message a line, one JSON answer a line."""
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line.startswith("/"):
            if not command(session, line, lambda s: print(s, file=err, flush=True)):
                return 0
            continue
        task, stream = session.stream(line)
        for _ in stream:
            pass
        r = stream.result
        session.commit(r.text)
        row = {"answer": r.text, "finish_reason": r.finish_reason, "tokens": r.completion_tokens}
        if task:
            row["tag"] = task
        if show_task:
            row["performed"] = judge_task(session.messages()[:-1], r.text, session.forced_task)
        out.write(json_line(row) + "\n")
        out.flush()
    return 0


def run_terminal(session: ChatSession, console, show_task: bool = False) -> int:
    console.print(f"[bold]mtsft chat[/] with {session.loaded.name} (task tags: {session.loaded.tag_mode}).  {HELP}",
                  highlight=False)
    while True:
        try:
            line = console.input("[bold green]you>[/] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return 0
        if not line.strip():
            continue
        if line.startswith("/"):
            if not command(session, line, lambda s: console.print(f"[dim]{s}[/]", highlight=False)):
                return 0
            continue
        task, stream = session.stream(line)
        console.print("[bold cyan]model>[/] " + (f"[dim]\\[{task}][/] " if task else ""), end="")
        try:
            for piece in stream:
                console.out(terminal_safe(piece), end="", highlight=False)
                console.file.flush()
        except KeyboardInterrupt:
            stream.close()
            console.print("[dim] (stopped)[/]")
        console.print()
        r = stream.result
        if r is None:
            session.undo()
            continue
        session.commit(r.text)
        if r.finish_reason == "length":
            console.print(f"[dim](cut at {session.max_new_tokens} tokens)[/]")
        if show_task:
            if not crosstalk.default_judge_ready():
                console.print("[dim](training the crosstalk judge once; it takes a minute or two)[/]")
            v = judge_task(session.messages()[:-1], r.text, session.forced_task)
            conf = f" {v['confidence']:.2f}" if v.get("confidence") is not None else ""
            crossed = " [red]crossed[/]" if v.get("crossed") else ""
            console.print(f"[dim]performs: {v['task']}{conf}{crossed}[/]", highlight=False)
