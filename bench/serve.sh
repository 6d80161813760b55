#!/usr/bin/env bash
# Load test of trnn serve on loopback: requests/s and p50/p99 latency with
# 32 concurrent clients, each request one sequence of the quickstart model
# (60 to 150 steps), with dynamic batching against --max-batch 1, in one
# sitting.
#
#   bench/serve.sh [SECONDS] [ROUNDS] [STEPS]
#
# Defaults: 10 seconds, 2 rounds, and sequences of 60 to 150 steps; STEPS
# above 0 gives every sequence that many steps instead.
#
# It needs wrk (Debian: apt-get install wrk). It builds bin/trnn, trains the
# quickstart model into a temporary folder, and for each round runs one
# server per configuration in turn on 127.0.0.1 (an ephemeral port, never
# another interface), loads it with wrk for SECONDS (and at most 10^6
# requests) after a one-second warm-up, and stops it with SIGTERM. The
# machine is shared with the load generator: compare the two
# configurations, measured alternately, rather than the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
rounds=${2:-2}
steps=${3:-0}
clients=32
command -v wrk >/dev/null || { echo "serve.sh: wrk not found (apt-get install wrk)" >&2; exit 2; }

go build -o bin/trnn ./cmd/trnn
tmp=$(mktemp -d)
server=
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
./bin/trnn train examples/quickstart.yaml -o "$tmp/run" --quiet
cp "$tmp/run/model.onnx" "$tmp/quickstart.onnx"

# serve CONFIG ARGS...: starts a server, loads it, stops it; appends a JSON
# line to $tmp/results.
serve() {
  local config=$1
  shift
  ./bin/trnn serve "$tmp/quickstart.onnx" --addr 127.0.0.1:0 "$@" 2>"$tmp/log" &
  server=$!
  local addr=
  for _ in $(seq 200); do
    addr=$(sed -n 's/.*"msg":"listening","addr":"\([0-9.:]*\)".*/\1/p' "$tmp/log")
    [ -n "$addr" ] && break
    sleep 0.05
  done
  [ -n "$addr" ] || { cat "$tmp/log" >&2; echo "serve.sh: the server did not start" >&2; exit 1; }
  local url="http://$addr/v2/models/quickstart/infer"
  timeout 30 wrk -t1 -c"$clients" -d1s -s bench/serve/oip.lua "$url" -- 1000000 "$steps" >/dev/null
  local line
  line=$(timeout $((seconds + 30)) wrk -t1 -c"$clients" -d"${seconds}s" --timeout 10s -s bench/serve/oip.lua "$url" -- 1000000 "$steps" | tail -n 1)
  kill -TERM "$server"
  wait "$server"
  server=
  echo "{\"config\":\"$config\",${line#\{}" >>"$tmp/results"
}

for round in $(seq "$rounds"); do
  serve "batched (--max-batch 32)" --max-batch 32
  serve "--max-batch 1" --max-batch 1
done

printf '%-26s %10s %10s %10s %8s\n' configuration "requests/s" "p50 ms" "p99 ms" errors
while read -r line; do
  printf '%-26s %10s %10s %10s %8s\n' \
    "$(sed 's/.*"config":"\([^"]*\)".*/\1/' <<<"$line")" \
    "$(sed 's/.*"rps":\([0-9.]*\).*/\1/' <<<"$line")" \
    "$(sed 's/.*"p50_ms":\([0-9.]*\).*/\1/' <<<"$line")" \
    "$(sed 's/.*"p99_ms":\([0-9.]*\).*/\1/' <<<"$line")" \
    "$(sed 's/.*"non_2xx":\([0-9]*\),"socket_errors":\([0-9]*\).*/\1+\2/' <<<"$line")"
done <"$tmp/results"
# The ratio of the mean throughputs, and each configuration's worst p99.
awk -F'"rps":|,"p50_ms":|"p99_ms":|,"non_2xx"' '
  /"config":"batched/ {b += $2; nb++; if ($4 > pb) pb = $4}
  /"config":"--max-batch 1"/ {u += $2; nu++; if ($4 > pu) pu = $4}
  END {printf "batched / --max-batch 1: %.2fx the requests/s; worst p99 %.1f ms against %.1f ms\n", (b/nb)/(u/nu), pb, pu}' "$tmp/results"
