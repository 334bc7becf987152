"""The test run keeps to itself: its own model cache in the checkout, never the user's ~/.cache (issue 26)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mtsft import model as M

TEST_CACHE = Path(__file__).resolve().parent.parent / ".test-cache"   # the checkout's, as tests/conftest.py sets it


def test_tests_use_their_own_cache_not_the_home_cache():
    home_cache = Path.home() / ".cache"
    assert M.cache_dir() == TEST_CACHE
    assert not M.cache_dir().resolve().is_relative_to(home_cache.resolve())


def test_subprocesses_inherit_the_test_cache():
    out = subprocess.run([sys.executable, "-c", "from mtsft.model import cache_dir; print(cache_dir())"],
                         capture_output=True, text=True, timeout=120, check=True)
    assert Path(out.stdout.strip()) == TEST_CACHE


def test_the_test_cache_is_ignored_by_git():
    root = TEST_CACHE.parent
    r = subprocess.run(["git", "check-ignore", "-q", str(TEST_CACHE / "x")], cwd=root, capture_output=True)
    assert r.returncode == 0 or not (root / ".git").exists()
