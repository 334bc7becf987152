#!/usr/bin/env bash
# The GPU paths, proved in one call on a lent GPU machine (no network there): each path runs a few steps
# and prints one line: PASS (seconds, tokens, peak memory, final loss), FAIL (the last error line) or SKIP (why).
#   here first:  bash scripts/gpu_wheels.sh          (fills .gpu_wheels/, git-ignored)
#   device tool: run(command="bash scripts/gpu_check.sh", carry=[".gpu_wheels"], timeout_s=540)
# Paths: LoRA bf16 (the baseline), QLoRA (bitsandbytes 4-bit), packed batching (flash-attention when
# present, else SDPA), FSDP and DeepSpeed ZeRO-2/3 through accelerate (one process: one GPU), and
# `mtsft run --profile full` sized down. The model is the embedded SmolLM2-135M's architecture and
# tokenizer with random weights: its 98 MB GGUF is more than a device call carries (64 MiB). Set
# MTSFT_GPU_MODEL to a local model directory on that machine to use real weights instead.
# Logs go to $OUT/gpu_check_logs.tar.gz (the device tool brings $OUT back); elsewhere to /tmp/gpu_check.
set -uo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
work=/tmp/gpu_check; rm -rf "$work"; mkdir -p "$work"
py=python3
site=""
if [ -d .gpu_wheels/wheels ]; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target .gpu_wheels/site \
    .gpu_wheels/wheels/*.whl >"$work/pip.log" 2>&1 || { echo "FAIL setup: $(tail -1 "$work/pip.log")"; }
  site="$PWD/.gpu_wheels/site:$PWD/.gpu_wheels/bnb:"
fi
export PYTHONPATH="$PWD/src:$site${PYTHONPATH:-}"
$py - <<'PY'
import importlib, torch
print(f"device: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA'}; torch {torch.__version__} "
      f"(CUDA {torch.version.cuda})")
for name in ("transformers", "trl", "peft", "accelerate", "datasets", "pyarrow", "bitsandbytes", "deepspeed", "flash_attn"):
    try:
        print(f"  {name} {importlib.import_module(name).__version__}")
    except Exception as error:  # a missing or broken package is reported, and its path is skipped below
        print(f"  {name}: {type(error).__name__}: {str(error).splitlines()[0][:150] if str(error) else ''}")
PY
model=${MTSFT_GPU_MODEL:-}
if [ -z "$model" ]; then
  model="$work/smollm2-135m-random"
  $py - "$model" <<'PY' || { echo "FAIL setup: could not build the random-weight model"; exit 1; }
import sys, torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
torch.manual_seed(0)
source, target = ".gpu_wheels/model", sys.argv[1]
AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(source)).save_pretrained(target)
AutoTokenizer.from_pretrained(source).save_pretrained(target)
PY
fi
$py -m mtsft data synth --n 240 --clean --out "$work/data.jsonl" >"$work/synth.log" 2>&1 \
  || { echo "FAIL setup: mtsft does not run: $(tail -1 "$work/synth.log")"; exit 1; }

step() {  # limit, name, then the command; prints one line
  local limit=$1 name=$2; shift 2
  local log="$work/$name.log" start=$SECONDS
  if timeout "$limit" "$@" >"$log" 2>&1; then
    echo "PASS $name ($((SECONDS - start)) s): $(grep -E '^done in' "$log" | tail -1 | cut -c1-200)"
  else
    echo "FAIL $name ($((SECONDS - start)) s): $(grep -vE '^\s*$|^\s*(warnings.warn|\[rank)' "$log" | tail -1 | cut -c1-240)"
  fi
}
has() { $py -c "import $1" >/dev/null 2>&1; }
common=(--model "$model" --data "$work/data.jsonl" --set max_steps=6 --set logging_steps=2 --set report_to=[] --set eval.fraction=0.05)
step 120 lora_bf16 $py -m mtsft train -c lora --out "$work/lora" --precision bf16 "${common[@]}"
if has bitsandbytes; then step 120 qlora $py -m mtsft train -c qlora --out "$work/qlora" "${common[@]}"
else echo "SKIP qlora: bitsandbytes does not import on this machine"; fi
if has flash_attn; then step 120 packed_flash_attn $py -m mtsft train -c lora --out "$work/packed" "${common[@]}" --set batching=packed
else echo "SKIP packed_flash_attn: no flash-attn build on this machine (none on PyPI for torch 2.11/CUDA 13); packed runs on SDPA:"
     step 120 packed_sdpa $py -m mtsft train -c lora --out "$work/packed" "${common[@]}" --set batching=packed; fi
step 150 fsdp $py -m mtsft train -c full --out "$work/fsdp" "${common[@]}" --config-accelerate accelerate/fsdp --nproc 1
if has deepspeed; then
  step 150 zero2 $py -m mtsft train -c lora --out "$work/zero2" "${common[@]}" --config-accelerate accelerate/deepspeed_zero2 --nproc 1
  step 150 zero3 $py -m mtsft train -c full --out "$work/zero3" "${common[@]}" --config-accelerate accelerate/deepspeed_zero3 --nproc 1
else echo "SKIP zero2, zero3: deepspeed does not import on this machine"; fi
step 240 run_full $py -m mtsft run --profile full --model "$model" --out "$work/run_full" --set n=600 --set eval_n=48 \
  --set real_per_set=40 --set train.epochs=1 --set eval.real_per_set=12 --set eval.max_new_tokens=64
grep -E 'overall|verdict|report' "$work/run_full.log" | head -12
# Only the logs travel back: the runs' checkpoints (FSDP shards, ZeRO states) are gigabytes.
[ -n "${OUT:-}" ] && (cd "$work" && tar -czf "$OUT/gpu_check_logs.tar.gz" *.log)
echo "done in $SECONDS s"
