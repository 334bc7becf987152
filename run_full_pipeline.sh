#!/usr/bin/env bash
# Set up from nothing, then run the whole loop on the embedded defaults (`mtsft run`).
#   bash run_full_pipeline.sh                 default run into ./runs/pipeline
#   bash run_full_pipeline.sh --out DIR ...   extra arguments go to `mtsft run`
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
mtsft run --overwrite "$@"
