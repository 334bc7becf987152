#!/usr/bin/env bash
# The GPU paths, proved in one call on a lent GPU machine (no network there): each path runs a few steps
# on the embedded model and prints one line: PASS, FAIL (with the last error line) or SKIP (why).
#   here:        bash scripts/gpu_wheels.sh
#   device tool: run(command="bash scripts/gpu_check.sh", carry=[".gpu_wheels"], timeout_s=560)
# Paths: LoRA bf16 (baseline), QLoRA (bitsandbytes 4-bit), packed batching (flash-attention when present,
# else SDPA), FSDP and DeepSpeed ZeRO-2/3 through accelerate (one process: one GPU), `mtsft run --profile
# full` sized down (a 0.5B model only when one is at hand offline; else the embedded model).
set -uo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-/tmp/gpu_check}"; mkdir -p "$OUT"
py=python3
if [ -d .gpu_wheels ]; then
  $py -m venv --system-site-packages /tmp/gpuenv && py=/tmp/gpuenv/bin/python
  $py -m pip install -q --no-index --find-links .gpu_wheels --no-deps .gpu_wheels/*.whl 2>&1 | tail -2
  ls .gpu_wheels/deepspeed-*.tar.gz >/dev/null 2>&1 && DS_BUILD_OPS=0 $py -m pip install -q --no-index \
    --no-build-isolation --no-deps .gpu_wheels/deepspeed-*.tar.gz 2>&1 | tail -1
fi
$py - <<'PY'
import torch, transformers
print(f"device: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA'}; torch {torch.__version__}; "
      f"transformers {transformers.__version__}")
PY
$py -m mtsft data synth --n 240 --clean --out "$OUT/data.jsonl" >/dev/null 2>&1 || { echo "FAIL setup: mtsft does not run"; exit 1; }
step() {  # name, then the command; prints one line
  local name=$1; shift
  local log="$OUT/$name.log" start=$SECONDS
  if timeout 150 "$@" >"$log" 2>&1; then echo "PASS $name ($((SECONDS - start)) s)"
  else echo "FAIL $name ($((SECONDS - start)) s): $(grep -v '^\s*$' "$log" | tail -1 | cut -c1-200)"; fi
}
has() { $py -c "import $1" >/dev/null 2>&1; }
common=(--data "$OUT/data.jsonl" --set max_steps=5 --set report_to=[] --set eval.fraction=0.05)
step lora_bf16 $py -m mtsft train -c lora --out "$OUT/lora" --precision bf16 "${common[@]}"
if has bitsandbytes; then step qlora $py -m mtsft train -c qlora --out "$OUT/qlora" "${common[@]}"
else echo "SKIP qlora: no bitsandbytes build on this machine (none carried in .gpu_wheels)"; fi
if has flash_attn; then step packed_flash_attn $py -m mtsft train -c lora --out "$OUT/packed" "${common[@]}" --set batching=packed
else echo "SKIP packed_flash_attn: no flash-attn build (no wheel on PyPI for this torch/CUDA); running packed on SDPA instead"
     step packed_sdpa $py -m mtsft train -c lora --out "$OUT/packed" "${common[@]}" --set batching=packed; fi
step fsdp $py -m mtsft train -c full --out "$OUT/fsdp" "${common[@]}" --config-accelerate accelerate/fsdp --nproc 1
if has deepspeed; then
  step zero2 $py -m mtsft train -c lora --out "$OUT/zero2" "${common[@]}" --config-accelerate accelerate/deepspeed_zero2 --nproc 1
  step zero3 $py -m mtsft train -c full --out "$OUT/zero3" "${common[@]}" --config-accelerate accelerate/deepspeed_zero3 --nproc 1
else echo "SKIP zero2, zero3: no deepspeed on this machine (none carried in .gpu_wheels)"; fi
model=builtin; [ -n "${MTSFT_GPU_MODEL:-}" ] && model=$MTSFT_GPU_MODEL
step run_full $py -m mtsft run --profile full --model "$model" --out "$OUT/run_full" --set n=600 --set eval_n=48 \
  --set real_per_set=40 --set train.epochs=1 --set eval.real_per_set=12 --set eval.max_new_tokens=128
