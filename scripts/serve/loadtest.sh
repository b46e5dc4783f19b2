#!/usr/bin/env bash
# Load test of `retrieve serve` on loopback: an index of ROWS random unit rows in the model's
# dimension (a scan costs the same whatever the rows hold; the text is embedded by the real
# model), then wrk at 1, 8 and 64 connections, each run long enough for 10,000 text queries,
# rotating over several captions. Prints wrk's figures, the errors and the server's memory.
#   scripts/serve/loadtest.sh MODEL [ROWS] [SECONDS]      (needs wrk: apt-get install wrk; python3 with numpy)
# Errors: wrk counts non-2xx answers and socket errors; both must be 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=$(realpath "$1"); rows=${2:-100000}; seconds=${3:-30}
bin=$(realpath "${RETRIEVE:-.build/release/retrieve}")    # RETRIEVE=path picks another build
work=$(mktemp -d /tmp/retrieve-load-XXXXXX)
mkdir -p "$work/folder"
python3 - "$model" "$work/rows.npy" "$rows" <<'PY'
import json, struct, sys
import numpy as np
model, out, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(model, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    config = json.loads(json.loads(f.read(n))["__metadata__"]["config"])
d = config["embeddingDimension"]
x = np.random.default_rng(7).standard_normal((rows, d)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
np.save(out, x)
print(f"{rows} rows of {d}", file=sys.stderr)
PY
"$bin" index "$work/folder" --from-npy "$work/rows.npy" --model "$model" --exact >&2
cat > "$work/queries.lua" <<'LUA'
local queries = {"a%20red%20circle", "a%20small%20blue%20square%20on%20the%20left", "a%20large%20yellow%20ring",
                 "a%20green%20triangle%20above%20a%20red%20star", "a%20purple%20cross%20on%20a%20striped%20background",
                 "a%20white%20star%20on%20a%20plain%20background", "an%20orange%20circle%20below%20a%20small%20white%20square", "a%20black%20heart"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/search?k=10&q=" .. queries[i % #queries + 1])
end
LUA
"$bin" serve "$work/folder" --port 0 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q http "$work/serve.out" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/serve.out")
rss() { ps -o rss= -p "$server" | tr -d ' '; }
peak() { awk '/VmHWM/ {print $2}' "/proc/$server/status"; }
echo "server $url, rss $(rss) KiB after start"
curl -s "${url}api/search?k=3&q=a%20red%20circle" >/dev/null
echo "rss $(rss) KiB after the first query"
failed=0
for connections in 1 8 64; do
    threads=$(( connections == 1 ? 1 : 2 ))
    echo "== wrk -t$threads -c$connections -d${seconds}s --latency -s queries.lua ${url}"
    wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 10s --latency -s "$work/queries.lua" "$url" | tee "$work/wrk-$connections.txt"
    if grep -q -E 'Non-2xx|Socket errors' "$work/wrk-$connections.txt"; then echo "ERRORS at $connections connections"; failed=1; fi
    echo "rss $(rss) KiB after $connections connections (peak $(peak) KiB)"
done
curl -s "${url}healthz"; echo
lscpu | grep 'Model name'
kill -TERM $server; wait $server || true
cat "$work/serve.err"
exit "$failed"
