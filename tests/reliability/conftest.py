"""The reliability suite: hostile inputs, fuzzing, kills mid-write, the sandbox wall. Every test here is
marked `reliability`: the default fast run leaves them out, `bash run_tests.sh` runs them as their own step
(always in CI), and `python -m pytest -m reliability tests/reliability` runs them alone (about 6 minutes)."""

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)
