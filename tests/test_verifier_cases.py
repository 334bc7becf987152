"""Every named case in tests/verifier_cases: gaming patterns score <= 0.2, valid variants >= 0.8."""

import pytest

from mtsft import tasks
from verifier_cases import GAMING_MAX, VALID_MIN, all_cases

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_verifier_case(case):
    score = tasks.get(case.task).score(case.output, case.record)
    if case.kind == "gaming":
        assert score <= GAMING_MAX, f"{case.id} scored {score:.3f} (gaming must be <= {GAMING_MAX})"
    else:
        assert case.kind == "valid", case.kind
        assert score >= VALID_MIN, f"{case.id} scored {score:.3f} (valid must be >= {VALID_MIN})"
