#!/bin/sh
# Trains over tar shards under a virtual-memory limit and reports the peak resident memory:
# the pixel caches are built (or checked) first, then training runs for SECONDS and is
# interrupted (SIGINT: it saves its resumable state and exits 130), then resumes under the same
# limit for SECONDS more. Data several times the limit shows that memory does not grow with it.
#
#   retrieve synth --out shapes --count 240000 --size 64
#   scripts/webdataset/make-shards.py shapes shards --per-shard 5000
#   scripts/webdataset/bounded-run.sh 'shards/{000000..000047}.tar' run/model.safetensors 1000000 240
set -eu
data=$1; out=$2; limit_kb=${3:-1000000}; seconds=${4:-240}
retrieve=${RETRIEVE:-retrieve}
shift 4 2>/dev/null || true
settings="--image-size 64 --epochs 1 --val-fraction 0.02 --batch 128 --log-every 20"

run() {  # run LABEL ARGS…: one run under the limit, interrupted after $seconds
    label=$1; shift
    ( ulimit -v "$limit_kb"; exec /usr/bin/time -v "$retrieve" train --data "$data" --out "$out" $settings "$@" ) \
        > "$out.$label.out" 2> "$out.$label.err" &
    timer=$!
    # Wait for training to start (the caches first), then give it $seconds of steps.
    while kill -0 "$timer" 2>/dev/null && ! grep -q "^data: " "$out.$label.err"; do sleep 2; done
    sleep "$seconds"
    child=$(pgrep -P "$timer" || true)
    [ -n "$child" ] && kill -INT "$child"
    wait "$timer" || true
    echo "== $label (ulimit -v $limit_kb KB)"
    grep -E "^pixel cache|^data:|^resuming|interrupted|terminated|Fatal error|Maximum resident|Exit status|Elapsed" "$out.$label.err" || true
    echo "pairs/s of the last logged steps:"
    grep -o '"pairs_per_s":[0-9.]*' "${out%.safetensors}.metrics.jsonl" | tail -4 | cut -d: -f2 | tr '\n' ' '; echo
}

run first "$@"
run resumed --resume "$@"
