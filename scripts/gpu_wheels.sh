#!/usr/bin/env bash
# Run HERE (a machine with PyPI) before `scripts/gpu_check.sh` goes to the GPU machine, which has no network
# and its own torch 2.11 (cu130), transformers 5.17, accelerate 1.15 and Python 3.12 (the device tool's
# KINDS.md lists its packages). Fills .gpu_wheels/ (git-ignored; carry it: carry=[".gpu_wheels"]) with
#   wheels/  what mtsft needs beside that image, for cp312 manylinux (installed there with --no-deps);
#   bnb/     bitsandbytes unpacked with only its CUDA 13 libraries: the wheel holds one library per CUDA
#            and ROCm release (43 MB) and the device call carries 64 MiB in all;
#   model/   the embedded model's config and tokenizer. Its weights (a 98 MB GGUF) exceed what a call
#            carries, so the check builds the same architecture with random weights there.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
dest=.gpu_wheels
rm -rf "$dest" && mkdir -p "$dest/wheels" "$dest/bnb" "$dest/model"
platforms=()
for tag in manylinux_2_17 manylinux2014 manylinux_2_24 manylinux_2_27 manylinux_2_28 manylinux_2_31 manylinux_2_34; do
  platforms+=(--platform "${tag}_x86_64")
done
dl() { "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
         "${platforms[@]}" --dest "$dest/wheels" "$@" 2>&1 | grep -v 'is ignored' || true; }
version() { "$py" -c "import importlib.metadata as m; print(m.version('$1'))"; }
# The versions this checkout is tested with, so both machines run the same library code.
for pkg in transformers trl peft datasets pydantic pydantic-core rensa datasketch; do dl "$pkg==$(version "$pkg")"; done
dl dill multiprocess annotated-types typing-inspection typing-extensions rouge-score nltk defusedxml hjson
# DeepSpeed ships only an sdist; built here with its CUDA ops off (they JIT-compile there on first use).
DS_BUILD_OPS=0 "$py" -m pip wheel -q --no-deps --no-binary=:all: --no-build-isolation deepspeed \
  -w "$dest/wheels" 2>&1 | grep -v 'is ignored' || true
tmp=$(mktemp -d)
dl bitsandbytes --dest "$tmp"
unzip -q "$tmp"/bitsandbytes-*.whl -d "$dest/bnb"
find "$dest/bnb/bitsandbytes" -name 'libbitsandbytes_*.so' ! -name '*cuda13*' ! -name '*cpu*' -delete
rm -rf "$tmp"
"$py" - "$dest/model" <<'PY'
import json, sys
from pathlib import Path
from mtsft.model import resolve_model_path
source, target = Path(resolve_model_path("builtin")), Path(sys.argv[1])
for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
    if (source / name).exists():
        (target / name).write_bytes((source / name).read_bytes())
PY
du -sh "$dest" "$dest"/*
