"""The code sandbox stops or refuses hostile code, reports what happened and never hangs the run."""

from __future__ import annotations

import time

from mtsft.sandbox import run_tests


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
