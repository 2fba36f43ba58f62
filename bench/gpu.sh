#!/usr/bin/env bash
# The GPU path in one device run of at most 8 minutes, on WikiText-2 (tokens as they are, 33k words):
# two trainings with --device cuda, bfloat16 autocast and cuDNN's LSTM kernels, one after the other:
#
#   sprint    1 minute of training, validated every 6 s   -> target: validation perplexity <= 100 within 60 s
#   distance  5.4 minutes, validated every 30 s            -> target: test perplexity <= 80 within 8 minutes
#
# Each prints tokens/s, validation perplexity against time, when it first reached 100, and its test
# perplexity (of its best validation's weights).
#
#   bash bench/gpu.sh                              # both, on a CUDA machine, WikiText-2 at ../shared
#   DATA=.wt2 RUNS=sprint bash bench/gpu.sh        # the data copied into the checkout; one of the two
#   RUNS=profile bash bench/gpu.sh                 # where a sprint window's time goes (torch.profiler)
#   DEVICE=cpu BF16=--no-bf16 MINUTES_SCALE=0.05 SIZE=32 bash bench/gpu.sh   # CPU smoke run, tiny models (~1 minute)
#
# Reference on one H100: the textbook loop (2x650 tied LSTM, dropout 0.5, batch 20, bptt 35,
# SGD) runs 20.3 s per epoch and reaches validation 99.5 after 14 epochs (286 s).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DATA=${DATA:-../shared/data/wikitext-2}
DEVICE=${DEVICE:-cuda}
OUT=${OUT_DIR:-data/gpu}
RUNS=${RUNS:-sprint distance}
MINUTES_SCALE=${MINUTES_SCALE:-1}  # the smoke run shrinks both budgets
SIZE=${SIZE:-}                     # the smoke run shrinks both models
BF16=${BF16-}                      # BF16=--no-bf16 trains in float32 (the presets use bfloat16)
# The runs' settings are model/training/presets/gpu-sprint.toml and gpu-distance.toml; these add to them.
CHUNK=${CHUNK-}                    # CHUNK="--chunk-tokens 0": whole articles instead of 700-token pieces
SPRINT_ARGS=${SPRINT_ARGS:-}       # extra flags for the sprint, e.g. "--batch-size 128 --lr 4e-3"
DISTANCE_ARGS=${DISTANCE_ARGS:-}

"$PY" -c "import torch; print('torch', torch.__version__, '| device:', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu only')"
rm -rf "$OUT" && mkdir -p "$OUT"
"$PY" -m corpus.build --text-dir "$DATA" --no-synthetic --out-dir "$OUT/corpus"

# What every run adds to its preset: the corpus, the device, and the smoke run's shrinking.
SIZES=${SIZE:+--embedding-size $SIZE --hidden-size $SIZE}
COMMON="--corpus-dir $OUT/corpus --device $DEVICE $BF16 $CHUNK $SIZES"

run() {  # name, preset, training minutes, validate every (minutes), extra arguments
    local name=$1 minutes validate start
    minutes=$(awk "BEGIN {print $3 * $MINUTES_SCALE}")
    validate=$(awk "BEGIN {print $4 * $MINUTES_SCALE}")
    start=$(date +%s)
    echo "== $name: preset $2, $minutes min, $COMMON $5"
    # shellcheck disable=SC2086  # the argument lists are meant to split
    "$PY" -m model.training --preset "$2" --models-dir "$OUT/$name" $COMMON $5 \
        --max-minutes "$minutes" --validate-minutes "$validate" 2>&1 | grep -v "tok/s" || true
    echo "$name wall time, start to saved version: $(( $(date +%s) - start )) s"
    "$PY" - "$OUT/$name" <<'PYEOF'
import json, sys
from pathlib import Path
versions = sorted(p for p in Path(sys.argv[1]).iterdir() if (p / "manifest.json").is_file())
m = json.loads((versions[-1] / "metrics.json").read_text())
print(f"tokens/s {m['tokens_per_second']:,.0f} over {m['train_seconds']:.0f} s; {m['parameters'] / 1e6:.1f}M parameters")
print("validation perplexity by time (s: training only / with validations):")
for p in m["valid_curve"]:
    print(f"  {p['training_seconds']:7.1f} / {p['seconds']:7.1f} s  {p['tokens']:>11,} tokens  {p['valid_perplexity']:8.2f}")
first = next((p for p in m["valid_curve"] if p["valid_perplexity"] <= 100), None)
print("validation <= 100:", f"after {first['seconds']:.0f} s ({first['training_seconds']:.0f} s of training)" if first else "not reached")
print(f"best validation {m['best_valid_perplexity']:.2f}, test perplexity {m['test_perplexity']:.2f}")
PYEOF
}

for name in $RUNS; do
    case $name in
        sprint) run sprint gpu-sprint 1 0.1 "$SPRINT_ARGS" ;;
        distance) run distance gpu-distance 5.4 0.5 "$DISTANCE_ARGS" ;;
        profile)  # where a window's time goes, with the sprint's settings (bench/gpu_profile.py; ~20 s on a GPU)
            # shellcheck disable=SC2086  # the argument lists are meant to split
            "$PY" bench/gpu_profile.py --batches 3 -- --preset gpu-sprint --models-dir "$OUT/profile" $COMMON $SPRINT_ARGS ;;
        *) echo "unknown run: $name (sprint, distance, profile)" >&2; exit 2 ;;
    esac
done
