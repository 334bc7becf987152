#!/usr/bin/env bash
# Set up from nothing, then run the test suite offline.
#   bash run_tests.sh            fast suite; with CI=true also the reliability suite (MTSFT_RELIABILITY=1),
#                                the Ray engine tests (MTSFT_RAY=1) and the slow real-model tests (MTSFT_SLOW=1)
#   bash run_tests.sh -k import  extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
echo "[tests] import layers (lint-imports, contracts in pyproject.toml)"
lint-imports --no-cache
echo "[tests] fast suite"
python -m pytest -q "$@"
if [ "${CI:-}" = "true" ] || [ "${MTSFT_RELIABILITY:-0}" = "1" ]; then
  echo "[tests] reliability suite (hostile inputs, fuzzing, kills, the sandbox wall)"
  python -m pytest -q -m reliability tests/reliability "$@"
fi
if [ "${CI:-}" = "true" ] || [ "${MTSFT_RAY:-0}" = "1" ]; then
  echo "[tests] Ray engine (a local Ray instance with 2 CPUs agrees with the local engine)"
  python -m pytest -q -m ray tests/test_curate_ray.py "$@"
fi
if [ "${CI:-}" = "true" ] || [ "${MTSFT_SLOW:-0}" = "1" ]; then
  echo "[tests] slow suite (real 135M model)"
  python -m pytest -q -m slow "$@" || rc=$?
  # pytest exits 5 when no test was collected; that is not a failure of the slow suite.
  if [ "${rc:-0}" != "0" ] && [ "${rc:-0}" != "5" ]; then exit "$rc"; fi
fi
