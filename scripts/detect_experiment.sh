#!/bin/sh
# The oriented-detection experiment of docs/detection.md: KLD vs Smooth-L1 over 3 seeds (same
# detector, data seeds and budget), then heavy-neck vs heavy-backbone at about equal MACs.
# Usage: scripts/detect_experiment.sh OUT_DIR [STEPS] [LR]   (needs a release build of fathom)
set -e
OUT=${1:-runs/detect-experiment}
STEPS=${2:-600}
LR=${3:-2e-3}
FATHOM=${FATHOM:-.build/release/fathom}
mkdir -p "$OUT"
for seed in 0 1 2; do
  for loss in kld smoothl1; do
    "$FATHOM" detect train --loss $loss --preset heavy-neck --images 2000 --image-size 64 --steps "$STEPS" \
      --batch-size 16 --lr "$LR" --seed $seed --eval-images 256 --out "$OUT/$loss-heavy-neck-seed$seed" > "$OUT/$loss-heavy-neck-seed$seed.log" 2>&1
  done
done
"$FATHOM" detect train --loss kld --preset heavy-backbone --images 2000 --image-size 64 --steps "$STEPS" \
  --batch-size 16 --lr "$LR" --seed 0 --eval-images 256 --out "$OUT/kld-heavy-backbone-seed0" > "$OUT/kld-heavy-backbone-seed0.log" 2>&1
echo done > "$OUT/DONE"
