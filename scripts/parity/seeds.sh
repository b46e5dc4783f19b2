#!/bin/bash
# usage: seeds.sh NAME "SEEDS" [retrieve train flags...]
# Trains on the icons set (20 epochs, batch 128) once per seed and prints the test-split recall of
# each last model (first caption per picture, as torch_ref.py reports it) and the mean.
# `{seed}` in a flag becomes the seed (e.g. --init torch-init-s{seed}.safetensors).
# Env: R (retrieve binary, default .build/release/retrieve), DATA (default /tmp/data/icons),
# OUT (folder for models and results, default /tmp/parity).
set -euo pipefail
name=$1; seeds=$2; shift 2
R=${R:-.build/release/retrieve}; DATA=${DATA:-/tmp/data/icons}; OUT=${OUT:-/tmp/parity}
mkdir -p "$OUT"
for s in $seeds; do
  flags=("${@//\{seed\}/$s}")
  "$R" train --data "$DATA/captions.tsv" --out "$OUT/$name-s$s.safetensors" --epochs 20 --batch 128 --seed "$s" \
    "${flags[@]}" --json > "$OUT/$name-s$s.train.json" 2>/dev/null
  "$R" eval --model "$OUT/$name-s$s.last.safetensors" --data "$DATA/captions.tsv" --on test --captions first --json \
    > "$OUT/$name-s$s.json" 2>/dev/null
done
python3 - "$OUT" "$name" $seeds <<'PY'
import json, sys
out, name, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [json.load(open(f"{out}/{name}-s{s}.json")) for s in seeds]
fmt = lambda r: " | ".join("/".join(f"{r[d][k]:.1f}" for k in ("R@1", "R@5", "R@10")) for d in ("t2i", "i2t"))
for s, r in zip(seeds, rows):
    print(f"{name} seed {s}: {fmt(r)}")
mean = {d: {k: sum(r[d][k] for r in rows) / len(rows) for k in ("R@1", "R@5", "R@10")} for d in ("t2i", "i2t")}
print(f"{name} mean of {len(rows)}: {fmt(mean)}   (t2i R@1/5/10 | i2t R@1/5/10)")
PY
