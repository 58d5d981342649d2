#!/usr/bin/env bash
# Rebuilds every artifact in models/ from a seed, on CPU: ./models/build.sh [seed]
# Needs Debian's python3-torch, python3-onnx, python3-numpy, python3-pil and libopenblas0-pthread
# (see models/README.md). Checkpoints and caches go to models/.build/ (not committed).
set -euo pipefail
SEED="${1:-0}"
cd "$(dirname "$0")/train"
PY=/usr/bin/python3
export PYTHONUNBUFFERED=1
mkdir -p ../.build
log() { echo "[$(date +%H:%M:%S)] $*"; }
start=$(date +%s)

log "text encoder";            $PY stage_text.py "$SEED"
log "autoencoder";             $PY stage_autoencoder.py "$SEED"
log "latent pool";             $PY stage_latents.py "$SEED"
# The large model is the long pole: it trains on one core while the other core trains the
# evaluator and then the small model. It stays on one thread throughout: a second thread was no
# faster on this machine, and a fixed thread count keeps the run reproducible.
log "velocity-large (background, 1 thread) | evaluator, then velocity-small (1 thread)"
FLOWBLEND_TRAIN_THREADS=1 $PY stage_velocity.py large "$SEED" > ../.build/velocity-large.log 2>&1 &
large=$!
FLOWBLEND_TRAIN_THREADS=1 $PY stage_evaluator.py "$SEED"
FLOWBLEND_TRAIN_THREADS=1 $PY stage_velocity.py small "$SEED"
wait "$large" || { cat ../.build/velocity-large.log; exit 1; }
tail -n 3 ../.build/velocity-large.log
log "export";                  $PY stage_export.py "$SEED"
log "quality table";           $PY stage_quality.py "$SEED"
log "done in $(( ($(date +%s) - start) / 60 )) min; stage times in models/.build/timings.json"
