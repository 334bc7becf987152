"""The code sandbox stops or refuses hostile code, reports what happened and never hangs the run."""

from __future__ import annotations

import time

import pytest

from mtsft import sandbox
from mtsft.sandbox import run_tests


@pytest.fixture(autouse=True)
def _unsafe_where_no_wall(monkeypatch):
    """Where bubblewrap cannot run, these snippets (the audit hook's own cases) run in the explicitly
    allowed unsafe mode; tests/reliability/test_sandbox_wall.py covers the wall itself."""
    if sandbox.mode(allow_unsafe=False) != "bwrap":
        monkeypatch.setenv(sandbox.UNSAFE_ENV, "1")


def test_passing_and_failing_tests_are_counted():
    result = run_tests("def double(x):\n    return 2 * x\n", ["assert double(2) == 4", "assert double(3) == 7"])
    assert (result.status, result.passed, result.total) == ("failed", 1, 2)
    assert result.fraction == 0.5


def test_infinite_loop_is_killed_at_the_timeout():
    start = time.perf_counter()
    result = run_tests("while True:\n    pass\n", ["assert True"], timeout=1.0)
    assert result.status == "timeout"
    assert time.perf_counter() - start < 10


def test_fork_bomb_is_refused():
    result = run_tests("import os\nwhile True:\n    os.fork()\n", timeout=5.0)
    assert result.status == "refused" and "fork" in result.detail


def test_large_allocation_hits_the_memory_limit():
    result = run_tests("block = bytearray(8 * 1024 ** 3)\n", memory_mb=256)
    assert result.status == "memory"


def test_writing_outside_the_sandbox_directory_is_refused(tmp_path):
    target = tmp_path / "escaped.txt"
    result = run_tests(f"open({str(target)!r}, 'w').write('x')\n")
    assert result.status == "refused" and "outside" in result.detail
    assert not target.exists()


def test_writing_inside_the_sandbox_directory_is_allowed():
    result = run_tests("open('scratch.txt', 'w').write('ok')\n", ["assert open('scratch.txt').read() == 'ok'"])
    assert result.status == "passed"


def test_opening_a_network_socket_is_refused():
    result = run_tests("import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(('127.0.0.1', 9))\n")
    assert result.status == "refused" and "socket" in result.detail


def test_catching_exception_does_not_swallow_the_refusal():
    result = run_tests("import subprocess\ntry:\n    subprocess.run(['ls'])\nexcept Exception:\n    pass\n")
    assert result.status == "refused"


def test_syntax_error_is_reported_as_error():
    result = run_tests("def broken(:\n", ["assert True"])
    assert result.status == "error" and "SyntaxError" in result.detail


def test_no_isolation_means_refusal_unless_unsafe_is_allowed(monkeypatch):
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda *a: False)
    monkeypatch.delenv(sandbox.UNSAFE_ENV, raising=False)
    with pytest.raises(sandbox.SandboxUnavailable, match="unsafe-exec"):
        run_tests("def f():\n    return 1\n", ["assert f() == 1"])
    assert sandbox.mode() == "unavailable"
    result = run_tests("def f():\n    return 1\n", ["assert f() == 1"], allow_unsafe=True)
    assert (result.status, result.mode) == ("passed", "unsafe")
    monkeypatch.setenv(sandbox.UNSAFE_ENV, "1")
    assert sandbox.mode() == "unsafe" and run_tests("def f():\n    return 1\n", ["assert f() == 1"]).mode == "unsafe"


def test_result_says_which_wall_ran():
    if sandbox.mode(allow_unsafe=False) != "bwrap":
        pytest.skip("bubblewrap is missing or cannot create namespaces on this machine")
    assert run_tests("def f():\n    return 1\n", ["assert f() == 1"]).mode == "bwrap"


def test_seccomp_program_refuses_anonymous_files_on_known_machines():
    """Eight fixed instructions, one per refused syscall; x86_64 also refuses its x32 numbers; none where
    the syscall numbers are not known (there the namespaces and rlimits remain)."""
    n = len(sandbox._REFUSED_SYSCALLS)
    assert len(sandbox.seccomp_program("aarch64")) == 8 * (6 + n)
    assert len(sandbox.seccomp_program("x86_64")) == 8 * (7 + n)
    assert sandbox.seccomp_program("riscv64") == b""


def test_an_unsafe_eval_leaves_no_unsafe_state_for_the_next_eval(tmp_path, monkeypatch):
    """Issue 26, item 5: `--unsafe-exec` holds for its own eval only. On a machine without a wall, an
    unsafe eval scores its code (mode "unsafe"); a later safe eval in the same process refuses."""
    import os

    from mtsft.eval import evaluate as ev
    from verifier_cases import code as cases

    monkeypatch.delenv(sandbox.UNSAFE_ENV, raising=False)
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda *a: False)  # no bubblewrap here
    monkeypatch.setattr(ev, "generate_answers", lambda *a, **k: [cases.fenced(cases.SOLUTION)])
    records = [cases.EN]
    unsafe = ev.evaluate_records(records, ev.EvalRunConfig(unsafe_exec=True), tmp_path / "unsafe", model=object(),
                                 tokenizer=object(), log=lambda *_: None)
    assert unsafe["run"]["code_exec"] == "unsafe" and unsafe["tasks"]["code"]["score"] == 1.0
    assert sandbox.UNSAFE_ENV not in os.environ and sandbox.mode() == "unavailable"
    with pytest.raises(sandbox.SandboxUnavailable):
        ev.evaluate_records(records, ev.EvalRunConfig(), tmp_path / "safe", model=object(), tokenizer=object(),
                            log=lambda *_: None)
