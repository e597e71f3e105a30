#!/usr/bin/env bash
# Disentanglement comparison over seeds: β-VAE (β=4), β-TCVAE (β=6) and β-TCVAE + Split
# Encoder (β=6), 10 latents, one common step budget, run one after another (sequential, so
# the train times are comparable as far as the shared machine allows).
# Usage: scripts/vae_seeds.sh [STEPS] [SEEDS...]   (defaults: 2000 steps, seeds 0 1 2)
# Build first: swift build -c release -Xswiftc -target-cpu -Xswiftc native --product fathom
# Runs go to runs/vae-seeds/<model>-seed<K>; scripts/vae_seeds_summary.py tabulates them.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-2000}
shift || true
SEEDS=${*:-0 1 2}
FATHOM=.build/release/fathom
ROOT=runs/vae-seeds
mkdir -p "$ROOT"
common=(--latents 10 --steps "$STEPS" --batch-size 64)
for seed in $SEEDS; do
  "$FATHOM" vae --objective beta  --beta 4 "${common[@]}" --seed "$seed" --out "$ROOT/beta-seed$seed"
  "$FATHOM" vae --objective tcvae --beta 6 "${common[@]}" --seed "$seed" --out "$ROOT/tcvae-seed$seed"
  "$FATHOM" vae --objective tcvae --beta 6 --split-encoder "${common[@]}" --seed "$seed" --out "$ROOT/tcvae-split-seed$seed"
done
python3 scripts/vae_seeds_summary.py "$ROOT"
