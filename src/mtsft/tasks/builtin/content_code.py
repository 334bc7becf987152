"""More code specs (written for this project): a spec is its names, signature, a description in English and
Chinese, a reference body, and the inputs its tests call it with.

The expected value of each test is computed by running the reference solution on that input (once per
spec and name, cached), so a test can never disagree with its reference; what a reviewer checks by eye is
that the reference does what the description says. Values are compared with `==`; None and bool results
with `is` (so a solution returning 1 where True is specified, or 0 for None, does not pass).
"""

from __future__ import annotations

import ast
import random
from functools import lru_cache

from mtsft.tasks.builtin import content

# A spec (content/code_specs.jsonl): its "names", "signature", "en" and "zh" description, reference "body"
# (indented 4 when built) and the test inputs, "cases": a Python literal list of argument tuples, so an
# argument keeps its exact type (a tuple is not a list) and its repr in the test.
RAW = content.rows("code_specs")


def _solution(name: str, sig: str, body: str) -> str:
    return f"def {name}({sig}):\n" + "\n".join("    " + line for line in body.splitlines()) + "\n"


def _call(name: str, args: tuple) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


@lru_cache(maxsize=None)
def _built(index: int, name: str) -> tuple[str, tuple[str, ...]]:
    """(solution, tests) of RAW[index] under `name`; expected values come from running the solution."""
    spec = RAW[index]
    solution = _solution(name, spec["signature"], spec["body"])
    namespace: dict = {}
    exec(compile(solution, f"<spec {name}>", "exec"), namespace)  # noqa: S102 - our own reference code
    tests = []
    for args in ast.literal_eval(spec["cases"]):
        expected = namespace[name](*args)
        op = "is" if expected is None or isinstance(expected, bool) else "=="
        tests.append(f"assert {_call(name, args)} {op} {expected!r}")
    return solution, tuple(tests)


def _make(index: int):
    names, sig, en, zh = (RAW[index][k] for k in ("names", "signature", "en", "zh"))

    def spec(rng: random.Random) -> dict:
        name = rng.choice(names)
        solution, tests = _built(index, name)
        return {"name": name, "en": f"`{name}({sig})` {en}", "zh": f"`{name}({sig})`，{zh}",
                "solution": solution, "tests": list(tests)}

    spec.__name__ = spec.__qualname__ = names[0]
    return spec


MORE_SPECS = [_make(i) for i in range(len(RAW))]
