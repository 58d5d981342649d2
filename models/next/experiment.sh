#!/usr/bin/env bash
# One experiment on this directory's family, on CPU: ./models/next/experiment.sh WORKDIR [seed]
# Trains text encoder, autoencoder, evaluator and both velocity models into WORKDIR (shorter
# runs with FLOWBLEND_STEPS_LARGE / _SMALL / _AE), then writes WORKDIR/ablation.json.
set -euo pipefail
export FLOWBLEND_WORK="$(realpath -m "$1")"; SEED="${2:-0}"
cd "$(dirname "$0")"
PY=/usr/bin/python3
export PYTHONUNBUFFERED=1
mkdir -p "$FLOWBLEND_WORK"
log() { echo "[$(date +%H:%M:%S)] $*"; }
log "text encoder";  $PY run.py stage_text "$SEED"
log "autoencoder";   FLOWBLEND_STEPS="${FLOWBLEND_STEPS_AE:-1000}" $PY run.py stage_autoencoder "$SEED"
log "latent pool";   $PY run.py stage_latents "$SEED"
log "velocity-large (background) | evaluator, then velocity-small"
FLOWBLEND_TRAIN_THREADS=1 FLOWBLEND_STEPS="${FLOWBLEND_STEPS_LARGE:-2200}" \
  $PY run.py stage_velocity large "$SEED" > "$FLOWBLEND_WORK/velocity-large.log" 2>&1 &
large=$!
FLOWBLEND_TRAIN_THREADS=1 FLOWBLEND_EVALUATOR_STEPS=2500 $PY run.py stage_evaluator "$SEED"
FLOWBLEND_TRAIN_THREADS=1 FLOWBLEND_STEPS="${FLOWBLEND_STEPS_SMALL:-2800}" $PY run.py stage_velocity small "$SEED"
wait "$large" || { cat "$FLOWBLEND_WORK/velocity-large.log"; exit 1; }
tail -n 2 "$FLOWBLEND_WORK/velocity-large.log"
log "ablation";      $PY run.py stage_ablation "$SEED"
log "done"
