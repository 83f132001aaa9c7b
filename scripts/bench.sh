#!/usr/bin/env bash
# npm run bench: the performance figures of the README, measured side by side with the seed's
# C server on this machine (../shared/tools/loadgen). Loopback only; every run is bounded.
#   BENCH_DURATION=3 BENCH_ROUNDS=3 npm run bench
set -euo pipefail
cd "$(dirname "$0")/.."
loadgen=../shared/tools/loadgen
[[ -x $loadgen/compare.sh || -f $loadgen/compare.sh ]] || { echo "bench: $loadgen/compare.sh not found" >&2; exit 1; }
command -v gcc >/dev/null || { echo "bench: gcc is needed to build the C reference (apt-get install gcc)" >&2; exit 1; }
dur=${BENCH_DURATION:-3}
rounds=${BENCH_ROUNDS:-3}
out=.bench
mkdir -p "$out"

echo "# socket-steps benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), node $(node --version)"
echo
echo "## hserver vs the seed's C server (looped, backlog 511), compare.sh, ${rounds} rounds of ${dur} s"
echo
bash "$loadgen/compare.sh" -c "1 16 128" -d "$dur" -r "$rounds" -- node bin/hserver --host 127.0.0.1 '{PORT}' | tee "$out/single.md"
echo
echo "## hserver --workers 2 vs the same C server"
echo
bash "$loadgen/compare.sh" -c "16 128" -d "$dur" -r "$rounds" -- node bin/hserver --workers 2 --host 127.0.0.1 '{PORT}' | tee "$out/workers.md"
echo

# A server for the client-side measurements.
node bin/hserver --host 127.0.0.1 0 2>"$out/server.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$out/server.err" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$out/server.err")
[[ -n $port ]] || { echo "bench: hserver did not start" >&2; exit 1; }

echo "## hclient start-up against a bare node -e 0"
echo
node scripts/startup.js "$port" 40
echo
echo "## hbench (Node) and hload (C) driving the same hserver, ${dur} s each"
echo
build=${TMPDIR:-/tmp}/loadgen-build
[[ -x $build/hload ]] || { mkdir -p "$build"; gcc -O2 -o "$build/hload" "$loadgen/hload.c" -lpthread; }
echo '| load tool | c | cps | p99 ms |'
echo '|---|---:|---:|---:|'
for c in 16 128; do
  hb=$(node bin/hbench --json -c "$c" -d "$dur" 127.0.0.1 "$port")
  hbcps=$(node -e 'const r=JSON.parse(process.argv[1]); console.log(r.connectionsPerSecond, r.latencyMs.p99)' "$hb")
  echo "| hbench | $c | ${hbcps% *} | ${hbcps#* } |"
  hl=$("$build/hload" -h 127.0.0.1 -p "$port" -c "$c" -n 100000000 -d "$dur" -t $((dur + 5)) || true)
  cps=$(sed -n 's/.* cps=\([0-9]*\).*/\1/p' <<<"$hl")
  p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$hl")
  echo "| hload | $c | $cps | $(awk -v u="$p99" 'BEGIN{printf "%.2f", u/1000}') |"
done
