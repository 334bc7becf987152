"""The code verdict is decided by the parent from results the solution cannot write (issue 14, item 2).

Hostile solutions are named tests, each scored 0 through the code task's verifier (pass@1); the
protocol's own rules (nonce, sequence, end marker, expectations kept out of the child) are tested on
the judge directly, and every MBPP reference in ../shared/datasets passes with its set-up code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtsft.sandbox import judge, plan_tests, run_tests
from mtsft.tasks import formats
from verifier_cases import code as cases

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(autouse=True)
def _unsafe_where_no_wall(monkeypatch):
    """The verdict is the same behind any wall: where bubblewrap cannot run, these (harmless) snippets
    run in the explicitly allowed unsafe mode instead of being refused."""
    from mtsft import sandbox

    if sandbox.mode(allow_unsafe=False) != "bwrap":
        monkeypatch.setenv(sandbox.UNSAFE_ENV, "1")


def score(case_name: str) -> float:
    """The code task's pass@1 for one named case of tests/verifier_cases/code.py."""
    from mtsft import tasks

    case = next(c for c in cases.CASES if c.name == case_name)
    return tasks.get("code").score(case.output, case.record)


@pytest.mark.parametrize("name", sorted(cases.GAMING))
def test_hostile_solution_scores_zero(name):
    assert score(name) == 0.0


@pytest.mark.parametrize("name", ["monkeypatched builtins", "always-close object against a tolerance check",
                                  "harness module's globals shadowed (float, list, type)",
                                  "harness functions rebound from inside the call", "HumanEval always-true",
                                  "HumanEval os._exit", "MBPP solution without the class its set-up needs"])
def test_hostile_solution_on_other_test_shapes_scores_zero(name):
    assert score(name) == 0.0


@pytest.mark.parametrize("name", ["fenced code", "intro sentence then unfenced code", "MBPP solution with its set-up code",
                                  "HumanEval-style check(candidate)", "tests that call built-ins on the result",
                                  "two asserts in one test"])
def test_right_solution_scores_one(name):
    assert score(name) == 1.0


def test_score_is_pass_at_1_not_a_fraction_of_asserts():
    result = run_tests("def f(x):\n    return 2 * x\n", ["assert f(1) == 2", "assert f(2) == 4", "assert f(3) == 7"])
    assert (result.status, result.passed, result.total) == ("failed", 2, 3)
    assert not result.all_passed
    assert score("right on the first test only") == 0.0


def test_always_equal_object_fails_even_where_python_would_say_equal():
    code = cases._ALWAYS_EQUAL + "def f(items=()):\n    return Anything() if not items else len(items)\n"
    assert run_tests(code, ["assert f([Anything(), Anything()]) == 2"]).status == "passed"  # objects as inputs
    result = run_tests(code, ["assert f() == 3"])
    assert result.status == "failed" and "not plain data" in result.detail


def test_expected_values_never_reach_the_child():
    plan = plan_tests(["assert f([3, 1]) == [1, 3]", "assert g('x') != 'SECRET-EXPECTED'", "assert not h(41)"])
    child_side = json.dumps(plan.steps)
    assert "SECRET-EXPECTED" not in child_side and "[1, 3]" not in child_side and "41" in child_side


def test_marker_printed_and_flushed_then_exit_is_not_a_pass():
    result = run_tests("import os\nprint('__MTSFT_SANDBOX_RESULT__ {\"status\": \"passed\"}', flush=True)\nos._exit(0)\n",
                       ["assert f(1) == 1"])
    assert result.status != "passed" and "__MTSFT_SANDBOX_RESULT__" in result.stdout


def test_exit_before_the_last_test_is_a_failure():
    code = "import os\nn = [0]\ndef f(x):\n    n[0] += 1\n    if n[0] == 3:\n        os._exit(0)\n    return x\n"
    result = run_tests(code, ["assert f(1) == 1", "assert f(2) == 2", "assert f(3) == 3"])
    assert result.status == "failed" and "before the last test" in result.detail


def test_checks_in_a_loop_must_report_at_least_once():
    code = ("import sys\ndef f(x):\n    sys._getframe(1).f_globals['__mtsft_emit__'] = lambda *a: None\n"
            "    return x\n")
    result = run_tests(code, ["for i in range(3):\n    assert f(i) == i"])
    assert result.status == "passed"  # rebinding the global does not reach the step's own local
    result = run_tests("def f(x):\n    return x\n", ["for i in range(3):\n    assert f(i) == i + (i > 0)"])
    assert result.status == "failed"


def test_mbpp_setup_code_runs_after_the_solution():
    result = run_tests(cases.MBPP_SOLUTION, cases.MBPP["reference"]["tests"], setup=cases.MBPP["reference"]["setup"])
    assert result.status == "passed", result.detail


def test_humaneval_check_candidate():
    ref = cases.HUMANEVAL["reference"]
    assert run_tests(cases.HUMANEVAL_SOLUTION, check=ref["check"], entry_point=ref["entry_point"]).status == "passed"
    wrong = "def has_close_elements(numbers, threshold):\n    return True\n"
    assert run_tests(wrong, check=ref["check"], entry_point=ref["entry_point"]).status == "failed"


# ---- the judge on hand-made channels: anything but the exact conversation fails ------------------------

def _channel(nonce: str, lines: list[tuple[str, object]]) -> bytes:
    return b"".join(f"{nonce} {i} {kind} {json.dumps(payload)}\n".encode() for i, (kind, payload) in enumerate(lines))


PLAN = plan_tests(["assert f(1) == 2"])
GOOD = [("C", [0, 0, [["i", "2"]]]), ("D", 0), ("Z", 2)]


def test_judge_accepts_the_exact_conversation():
    assert judge(PLAN, _channel("n" * 32, GOOD), "n" * 32)[0] == "passed"


@pytest.mark.parametrize("name,channel", [
    ("wrong nonce", _channel("m" * 32, GOOD)),
    ("sequence gap", _channel("n" * 32, GOOD).replace(b" 1 D", b" 5 D")),
    ("line after the end", _channel("n" * 32, GOOD + [("D", 0)])),
    ("no end marker", _channel("n" * 32, GOOD[:2])),
    ("check reported twice", _channel("n" * 32, [GOOD[0], GOOD[0], ("D", 0), ("Z", 3)])),
    ("check not reported", _channel("n" * 32, [("D", 0), ("Z", 1)])),
    ("wrong value", _channel("n" * 32, [("C", [0, 0, [["i", "3"]]]), ("D", 0), ("Z", 2)])),
    ("unknown type tag", _channel("n" * 32, [("C", [0, 0, [["obj", "3"]]]), ("D", 0), ("Z", 2)])),
    ("garbage", b"garbage\n" + _channel("n" * 32, GOOD)),
])
def test_judge_fails_closed(name, channel):
    assert judge(PLAN, channel, "n" * 32)[0] != "passed"


# ---- extraction -----------------------------------------------------------------------------------------

def test_intro_line_then_unfenced_code_is_extracted():
    code, prose = formats.extract_code("Here is the function:\ndef f(x):\n    return x\n\nIt returns x.")
    assert code.strip() == "def f(x):\n    return x" and "Here is" in prose and "returns x" in prose


@pytest.mark.parametrize("text", ["Sort the list and take the second value.", "1. Use a set\n2. Sort it\n3. Return",
                                  "先排序，再取第二个。"])
def test_prose_or_a_list_of_ideas_has_no_code(text):
    assert formats.extract_code(text)[0] == ""


# ---- real data -------------------------------------------------------------------------------------------

@pytest.mark.skipif(not (DATA / "mbpp_train.jsonl").exists(), reason="../shared/datasets/mbpp_train.jsonl not present")
def test_every_mbpp_reference_passes_with_the_real_sets_mapping():
    import yaml

    from mtsft import tasks
    from mtsft.importers import import_files

    recipe = yaml.safe_load((Path(__file__).parents[1] / "bench" / "real_sets.yaml").read_text())["mbpp_train.jsonl"]
    records = import_files([str(DATA / "mbpp_train.jsonl")], mapping=recipe["map"]).kept
    assert len(records) == 384
    assert sum(bool(r["reference"].get("setup")) for r in records) >= 1
    task = tasks.get("code")
    failing = [r["reference"]["tests"][0] for r in records if task.score(r["messages"][-1]["content"], r) != 1.0]
    assert failing == []


HUMANEVAL_RICH = '''
import math

def check(candidate):
    assert candidate(2) == 4, 'msg'
    assert abs(candidate(1.5) - 3.0) < 1e-6
    import random
    rng = random.Random(1)
    for _ in range(5):
        x = rng.randint(1, 9)
        assert math.isclose(candidate(x), 2 * x)
    def helper(v):
        assert v >= 0
        return candidate(v) + 1
    assert helper(1) == 3
    assert True, 'always'
    assert candidate(0) == 0 and candidate(1) == 2
    assert sorted([candidate(3), candidate(1)]) == [2, 6]
'''


@pytest.mark.parametrize("body,status", [("return 2 * x", "passed"), ("return 2 * x if x != 0 else 1", "failed"),
                                         ("return 2 * x if x < 5 else 0", "failed"),
                                         ("import os\n    os._exit(0) if x == 3 else None\n    return 2 * x", "failed")])
def test_humaneval_check_with_imports_loops_and_a_helper(body, status):
    code = f"def double(x):\n    {body}\n"
    result = run_tests(code, check=HUMANEVAL_RICH, entry_point="double")
    assert result.status == status, result
    assert result.total == 10  # the check's statements are judged one by one


def test_humaneval_check_that_returns_early_runs_whole():
    early = "def check(candidate):\n    if candidate(1) == 2:\n        assert candidate(3) == 6\n        return\n    assert False\n"
    assert run_tests("def double(x):\n    return 2 * x\n", check=early, entry_point="double").status == "passed"
    assert run_tests("def double(x):\n    return x\n", check=early, entry_point="double").status == "failed"


def test_flooding_every_descriptor_fails_with_bounded_memory():
    import resource

    code = ("import os\nchunk = b'x' * (1 << 20)\nfor fd in range(1, 64):\n    for _ in range(300):\n        try:\n"
            "            os.write(fd, chunk)\n        except OSError:\n            break\n"
            "def f():\n    return 1\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = run_tests(code, ["assert f() == 1"], timeout=10)
    assert result.status != "passed"
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 100  # MB


@pytest.mark.parametrize("kind,payload", [("C", "[1, 2]"), ("C", "'x'"), ("D", "[0]"), ("E", "3"), ("X", "None"),
                                          ("C", "[0, 0, " + "[" * 5000 + "]" * 5000 + "]")])
def test_judge_survives_malformed_payloads(kind, payload):
    channel = f"{'n' * 32} 0 {kind} {payload}\n".encode()
    assert judge(PLAN, channel, "n" * 32)[0] == "forged"


# ---- verdict isolation (issue 26, item 1): the tests see the real builtins and private modules ----------

AREA = cases._record("Write `area(r)`, the area of a circle of radius r.", entry_point="area",
                     tests=["assert math.isclose(area(2), 12.566, rel_tol=1e-3)",  # MBPP: math from the solution
                            "import math\nassert math.isclose(area(1), math.pi)",
                            "assert abs(area(1) - 3.14159) < 1e-4",
                            "assert sorted([area(1), area(0)]) == [0.0, math.pi]",
                            "assert all([area(1) > 3, area(2) > 12])",
                            "assert isinstance(area(3), float)",
                            "from collections import Counter\nassert Counter([round(area(1))]) == Counter([3])",
                            "import re\nassert re.findall(r'\\d', str(area(1)))[:3] == ['3', '1', '4']"])
WRONG_AREA = "def area(r):\n    return 0\n"
SHADOWING = {
    "top-level abs": "def abs(x):\n    return 0\n",
    "top-level sorted": "def sorted(*a, **k):\n    return [0.0, 3.141592653589793]\n",
    "top-level all": "def all(xs):\n    return True\n",
    "top-level isinstance": "def isinstance(*a):\n    return True\n",
    "math.isclose patched": "import math\nmath.isclose = lambda *a, **k: True\n",
    "fake math in sys.modules": ("import sys, types\nfake = types.ModuleType('math')\nfake.isclose = lambda *a, **k: True\n"
                                 "fake.pi = 0\nsys.modules['math'] = fake\nmath = fake\n"),
    "fake math class named math": "class math:\n    isclose = staticmethod(lambda *a, **k: True)\n    pi = 0\n",
    "builtins module attributes patched": ("import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.all = lambda x: True\n"
                                           "builtins.__import__ = lambda *a, **k: None\n"),
    "sys.modules['builtins'] replaced": ("import sys, types\nb = types.ModuleType('builtins')\nb.abs = lambda x: 0\n"
                                         "sys.modules['builtins'] = b\n"),
    "Counter patched in its module": ("import collections\ncollections.Counter.__init__ = lambda self, *a, **k: None\n"
                                      "from collections import Counter\n"),
    "re.findall patched": "import re\nre.findall = lambda *a, **k: ['3', '1', '4']\n",
    "pure-Python module internals patched (re._compile)": (
        "import re\nclass P:\n    findall = staticmethod(lambda s: ['3', '1', '4'])\n"
        "re._compile = lambda *a, **k: P()\n"),
    "patched inside the call": ("def area(r):\n    import math, builtins, re\n    math.isclose = lambda *a, **k: True\n"
                                "    builtins.abs = lambda x: 0\n    re.findall = lambda *a, **k: ['3', '1', '4']\n    return 0\n"),
    "the tests' globals rebound from inside the call": (
        "import sys\nclass FakeMath:\n    isclose = staticmethod(lambda *a, **k: True)\n    pi = 0\n"
        "    def __getattr__(self, name):\n        return lambda *a, **k: True\n"
        "class FakeRe:\n    findall = staticmethod(lambda *a, **k: ['3', '1', '4'])\n"
        "class FakeCounter(dict):\n    def __init__(self, *a, **k):\n        pass\n"
        "def area(r):\n    f = sys._getframe(1)\n    while f is not None:\n"
        "        f.f_globals.update(math=FakeMath, re=FakeRe, Counter=FakeCounter, abs=lambda x: 0, all=lambda x: True,\n"
        "                           sorted=lambda *a, **k: [0.0, 0], isinstance=lambda *a: True)\n"
        "        f = f.f_back\n    return 0\n"),
    # the evaluator computes these checks' built-in and math calls itself (other library calls, such as
    # `re.findall`, run in the child on private modules, which a solution walking gc can reach: SECURITY.md)
    "the tests' modules and builtins patched through gc": (
        "import gc, types\nREAL = (abs, all, sorted, isinstance, round)\nFAKES = dict(abs=lambda x: 0, all=lambda x: True,\n"
        "    sorted=lambda *a, **k: [0.0, 0], isinstance=lambda *a: True, round=lambda *a: 3)\n"
        "def area(r):\n    for o in gc.get_objects():\n"
        "        if type(o) is types.ModuleType and o.__name__ in ('math', 'collections'):\n"
        "            o.isclose = lambda *a, **k: True\n            o.pi = 0\n            o.Counter = lambda *a, **k: {}\n"
        "        elif type(o) is dict and o.get('abs') is REAL[0]:\n            o.update(FAKES)\n"
        "    return 0\n"),
}
RIGHT_AREA = ("import math as m\nfrom math import pi\nimport collections\n\n"
              "def sum(xs):  # a helper that shadows a built-in for its own use\n    total = 0\n"
              "    for x in xs:\n        total += x\n    return total\n\n"
              "def _square(x):\n    return sum([x] * int(x)) if float(x).is_integer() else x * x\n\n"
              "def area(r):\n    return float(pi * _square(r) * m.cos(0))\n")


def _wrong_area(name: str) -> str:
    """The pattern, then `area` returning 0 (wrong on every test) unless the pattern defines its own."""
    code = "import math\n" + SHADOWING[name]
    return code if "def area" in code else code + WRONG_AREA


@pytest.mark.parametrize("name", sorted(SHADOWING))
def test_each_shadowing_or_patching_solution_scores_zero(name):
    from mtsft import tasks

    assert tasks.get("code").score(cases.fenced(_wrong_area(name)), AREA) == 0.0
    # and no single test passes: the test the pattern targets fails like the others
    result = run_tests(_wrong_area(name), AREA["reference"]["tests"], entry_point="area")
    assert result.passed == 0, f"{name}: a wrong solution passed {result.passed} test(s)"


def test_solution_with_helpers_imports_and_a_shadowed_builtin_scores_one():
    from mtsft import tasks

    assert tasks.get("code").score(cases.fenced(RIGHT_AREA), AREA) == 1.0


# ---- the evaluator cannot be inflated by what it reads (issue 26, item 3) --------------------------------

def _measured(fn):
    """(fn(), the evaluator's peak allocation during it in MB, seconds)."""
    import time
    import tracemalloc

    tracemalloc.start()
    start = time.perf_counter()
    try:
        value = fn()
        return value, tracemalloc.get_traced_memory()[1] / 2**20, time.perf_counter() - start
    finally:
        tracemalloc.stop()


def test_1_mb_answer_scores_zero_unread_with_the_cap_named():
    from mtsft.eval.prediction_scores import score_predictions

    answer = "```python\nx = [" + "1, " * 350_000 + "]\n" + cases.SOLUTION + "```"  # 1 MB of valid Python
    result, peak_mb, _ = _measured(lambda: score_predictions([{**cases.EN, "prediction": answer}], workers=1))
    row = result["per_record"][0]
    assert (row["score"], row["violations"]) == (0.0, [formats.ANSWER_OVER_CAP])
    assert f"{formats.MAX_ANSWER_CHARS // 1024}k" in formats.ANSWER_OVER_CAP
    assert peak_mb < 50, f"scoring a 1 MB answer allocated {peak_mb:.0f} MB"


def test_700_kb_unfenced_answer_is_not_parsed_for_code():
    from mtsft import tasks

    answer = "Here it is:\n" + cases.SOLUTION + "x = 1\n" * 120_000
    (code, _), peak_mb, seconds = _measured(lambda: formats.extract_code(answer))
    assert code == "" and seconds < 2 and peak_mb < 50
    assert tasks.get("code").score(answer, cases.EN) == 0.0


def test_huge_result_is_reported_too_large_not_parsed():
    result, peak_mb, _ = _measured(lambda: run_tests("def f():\n    return list(range(190_000))\n", ["assert f() == [0]"]))
    assert result.status == "failed" and "result line cap" in result.detail, result
    assert peak_mb < 50, f"a 190k-item result allocated {peak_mb:.0f} MB in the evaluator"


def test_result_line_over_the_cap_is_refused_without_parsing():
    from mtsft import sandbox

    line = ("n" * 32 + " 0 C [0,0,[" + "[]," * (sandbox.RESULT_LINE_CAP // 3) + "[]]]\n").encode()
    (status, _, detail), peak_mb, _ = _measured(lambda: judge(PLAN, line, "n" * 32))
    assert status != "passed" and "RESULT_LINE_CAP" in detail
    assert peak_mb < 10


def test_built_in_and_math_calls_of_a_check_are_computed_by_the_evaluator():
    """Only the solution's part of each check goes to the child; `abs`, `math.isclose`, `sorted`, `all`,
    `isinstance`, `round` and `Counter` run in the evaluator on the values it sends back."""
    plan = plan_tests(AREA["reference"]["tests"][:7], entry_point="area")
    child_side = json.dumps(plan.steps)
    for name in ("abs(", "isclose", "sorted", "all(", "isinstance", "round", "Counter(", "12.566", "3.14159"):
        assert name not in child_side, name
    assert child_side.count("area)(") == 9
