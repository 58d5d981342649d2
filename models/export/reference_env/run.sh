#!/bin/sh
# Runs models/export/reference_check.py against diffusers and transformers from source on a machine
# with Debian's torch 1.13 and no pip (this one): the reference sources come from git mirrors
# (`fetch github:huggingface/diffusers`; `fetch github:feisenyu/transformers_4573`, a fork carrying
# upstream transformers' history) and the import-only stand-ins and torch-2 polyfills here make them
# importable (with_shims.py says which). On a machine with diffusers and transformers installed, run
# `python models/export/reference_check.py --config full` directly instead.
#   DIFFUSERS_GIT=... TRANSFORMERS_GIT=... models/export/reference_env/run.sh
set -e
D=${DIFFUSERS_GIT:-/work/.mirror/huggingface+diffusers/repo}
T=${TRANSFORMERS_GIT:-/work/.mirror/feisenyu+transformers_4573/repo}
REF=${REF_DIR:-/tmp/ref}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
apt-get install -y -qq python3-regex python3-filelock python3-packaging python3-tqdm python3-importlib-metadata
mkdir -p "$REF/diffusers_v0331" "$REF/diffusers_head" "$REF/transformers_f0e640"
git --git-dir="$D" archive v0.33.1 src | tar -x -C "$REF/diffusers_v0331"
git --git-dir="$D" archive 58eb52c0803ea9af3abec60841c2a093bdf1f951 src | tar -x -C "$REF/diffusers_head"
git --git-dir="$T" archive f0e640adfa3cedea53912b95e3093f05cc2b66b5 src | tar -x -C "$REF/transformers_f0e640"
cd "$ROOT"
for DIFF in diffusers_v0331 diffusers_head; do
  for CFG in shrunk full; do
    REF_DIFFUSERS="$REF/$DIFF/src" REF_TRANSFORMERS="$REF/transformers_f0e640/src" \
      /usr/bin/python3 "$HERE/with_shims.py" models/export/reference_check.py --config $CFG --umt5-layers 2 --json
  done
done
