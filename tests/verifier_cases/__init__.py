"""Named cases that try to fool a task's verifier, and valid answers it must accept.

Each module here (one per task, `<task>.py`) defines `CASES: list[Case]`. `tests/test_verifier_cases.py`
asserts every case, and `bench/verifier_audit.py` prints task x pattern -> mean score from the same lists.
A case list is written before the verifier is tuned, and a case is never deleted to make a test pass.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

GAMING_MAX = 0.2   # junk that games a verifier must score at most this
VALID_MIN = 0.8    # a valid variant of a right answer must score at least this


@dataclass(frozen=True)
class Case:
    task: str        # registry name
    name: str        # the pattern, e.g. "hedged numbers" or "number words"
    kind: str        # "gaming" or "valid"
    record: dict     # the record scored (its reference is what the verifier reads)
    output: str      # the model output under test

    @property
    def id(self) -> str:
        return f"{self.task}:{self.kind}:{self.name}"


def all_cases() -> list[Case]:
    cases = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        cases += importlib.import_module(f"{__name__}.{info.name}").CASES
    return cases
