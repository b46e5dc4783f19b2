#!/usr/bin/env bash
# Side by side on the same vectors, one after the other: our graph (and IVF) index against
# hnswlib, k = 10, one query at a time (one thread) and batched (2 threads).
# Usage: scripts/bench/graph_vs_hnswlib.sh DB.npy QUERIES.npy [RETRIEVE]
# The vectors: ../shared/bench/faiss_bench.py saves its clustered mixture as .npy; hnswlib comes
# from ../shared/bench/setup.sh (the peers' venv at ~/.cache/retrieve-peers).
set -euo pipefail
db=$1 queries=$2 retrieve=${3:-.build/release/retrieve}
lscpu | grep "Model name"
"$retrieve" bench search --db "$db" --queries-file "$queries" --nprobe 32 64 --flat-batches 1000 --budget 2 \
    --ef 16 24 32 48 64 96 128 --graph-ef-construction 100
"${PYTHON:-$HOME/.cache/retrieve-peers/bin/python}" "$(dirname "$0")/../../../shared/bench/hnsw_bench.py" \
    --db "$db" --queries "$queries" --M 16 --efc 200 --budget 2
