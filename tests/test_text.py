"""mtsft.text: helpers every stage shares."""

from __future__ import annotations


def test_python_is_parsed_one_thread_at_a_time(monkeypatch):
    """CPython 3.11's AST constructor shares its recursion depth across threads (gh-106905): the scorers'
    thread pool must never run two parses at once."""
    import ast
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from mtsft.text import parse_python

    inside, most, real_parse = [0], [0], ast.parse
    guard = threading.Lock()

    def slow_parse(source, *args, **kwargs):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)  # a thread switch mid-parse, as a garbage collection inside ast2obj can cause
        with guard:
            inside[0] -= 1
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", slow_parse)
    with ThreadPoolExecutor(max_workers=8) as pool:
        trees = list(pool.map(parse_python, ["x = 1\n"] * 32))
    assert most[0] == 1 and all(isinstance(t, ast.Module) for t in trees)
