#!/usr/bin/env bash
# Load test of trnn serve on loopback: requests/s and p50/p99 latency with
# 32 concurrent clients, each request one sequence, by default of the
# quickstart model (60 to 150 steps), with dynamic batching against
# --max-batch 1, in one sitting.
#
#   bench/serve.sh [SECONDS] [ROUNDS] [STEPS] [--spec SPEC.yaml [--data D.npz] | --model M.onnx] [--steps MIN-MAX] [--max-delay D]
#
# Defaults: 10 seconds, 2 rounds, and sequences of 60 to 150 steps; STEPS
# above 0 gives every sequence that many steps instead. --spec serves the
# model of SPEC trained for one epoch (on D.npz with --data, else on the
# spec's data): the weights do not change the timing. --model serves a
# model file as it is. --steps draws the sequences' steps from MIN to MAX;
# the features per step are the model's. --max-delay is the batched
# server's (default 1ms, trnn serve's): how long a batch waits for more
# requests to join it.
#
# It needs wrk (Debian: apt-get install wrk) and curl. It builds bin/trnn,
# trains the model into a temporary folder, and for each round runs one
# server per configuration in turn on 127.0.0.1 (an ephemeral port, never
# another interface), loads it with wrk for SECONDS (and at most 10^6
# requests) after a one-second warm-up, and stops it with SIGTERM. The
# machine is shared with the load generator: compare the two
# configurations, measured alternately, rather than the absolute numbers.
#
# Besides requests/s and latency it reports, per request, the CPU time the
# server and wrk used during the timed run (from /proc on Linux; empty
# elsewhere), which waiting for a core on a busy machine does not inflate,
# and the mean rows per batch the server ran (from its /metrics).
set -euo pipefail
cd "$(dirname "$0")/.."
spec=examples/quickstart.yaml
data=
model=
delay=1ms
min_steps=60
max_steps=150
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --spec) spec=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --max-delay) delay=$2; shift 2 ;;
    --steps)
      [[ $2 =~ ^([0-9]+)-([0-9]+)$ ]] || { echo "serve.sh: --steps $2: want MIN-MAX, as 12-48" >&2; exit 2; }
      min_steps=${BASH_REMATCH[1]}; max_steps=${BASH_REMATCH[2]}; shift 2 ;;
    -*) echo "serve.sh: unknown option $1" >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
seconds=${args[0]:-10}
rounds=${args[1]:-2}
steps=${args[2]:-0}
clients=32
command -v wrk >/dev/null || { echo "serve.sh: wrk not found (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "serve.sh: curl not found (apt-get install curl)" >&2; exit 2; }

go build -o bin/trnn ./cmd/trnn
tmp=$(mktemp -d)
server=
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
# The model's name in the server's paths is its file's base name.
if [ -n "$model" ]; then
  name=$(basename "$model" .onnx)
  cp "$model" "$tmp/$name.onnx"
else
  name=$(basename "$spec" .yaml)
  if [ "$spec" = examples/quickstart.yaml ]; then
    ./bin/trnn train "$spec" -o "$tmp/run" --quiet
  else
    ./bin/trnn train "$spec" -o "$tmp/run" --quiet --epochs 1 ${data:+--data "$data"}
  fi
  cp "$tmp/run/model.onnx" "$tmp/$name.onnx"
fi
features=

# cpu_seconds PID: the user and system CPU time process PID has used.
cpu_seconds() {
  [ -r "/proc/$1/stat" ] || return 0
  # Fields 14 and 15 after the command, which is in parentheses.
  sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($12 + $13) / hz}'
}

# batch_rows URL: the sum and count of the batch-size histogram.
batch_rows() {
  curl -s "$1/metrics" | awk '/^trnn_serve_batch_rows_sum/ {s = $2} /^trnn_serve_batch_rows_count/ {c = $2} END {print s + 0, c + 0}'
}

# serve CONFIG ARGS...: starts a server, loads it, stops it; appends a JSON
# line to $tmp/results.
runs=0
serve() {
  local config=$1
  shift
  # A log of its own for each server: reading the previous one's would
  # give its address.
  runs=$((runs + 1))
  local log="$tmp/log$runs"
  : >"$log"
  ./bin/trnn serve "$tmp/$name.onnx" --addr 127.0.0.1:0 "$@" 2>"$log" &
  server=$!
  local addr=
  for _ in $(seq 200); do
    addr=$(sed -n 's/.*"msg":"listening","addr":"\([0-9.:]*\)".*/\1/p' "$log")
    [ -n "$addr" ] && break
    sleep 0.05
  done
  [ -n "$addr" ] || { cat "$log" >&2; echo "serve.sh: the server did not start" >&2; exit 1; }
  # The features per step: the last dimension of x in the model's metadata.
  [ -n "$features" ] || features=$(curl -s "http://$addr/v2/models/$name" |
    sed -n 's/.*"name":"x","datatype":"FP32","shape":\[[^]]*,\([0-9]*\)\].*/\1/p')
  [ -n "$features" ] || { echo "serve.sh: the model has no float input x [batch, time, F]" >&2; exit 1; }
  local url="http://$addr/v2/models/$name/infer"
  local script=(-s bench/serve/oip.lua "$url" -- 1000000 "$steps" "$features" "$min_steps" "$max_steps")
  timeout 30 wrk -t1 -c"$clients" -d1s "${script[@]}" >/dev/null
  local line cpu0 cpu1 rows0 rows1 wrk_cpu
  cpu0=$(cpu_seconds "$server")
  rows0=$(batch_rows "http://$addr")
  # bash's time gives wrk's own CPU time (user + system).
  wrk_cpu=$( { TIMEFORMAT='%U %S'; time timeout $((seconds + 30)) wrk -t1 -c"$clients" -d"${seconds}s" --timeout 10s \
    "${script[@]}" | tail -n 1 >"$tmp/line"; } 2>&1 | awk '{print $1 + $2}')
  line=$(cat "$tmp/line")
  cpu1=$(cpu_seconds "$server")
  rows1=$(batch_rows "http://$addr")
  kill -TERM "$server"
  wait "$server"
  server=
  local requests extra
  requests=$(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")
  extra=$(awk -v r="$requests" -v c0="$cpu0" -v c1="$cpu1" -v w="$wrk_cpu" -v b0="$rows0" -v b1="$rows1" 'BEGIN {
    split(b0, x, " "); split(b1, y, " ")
    srv = (c0 != "" && r > 0) ? sprintf("%.1f", (c1 - c0) / r * 1e6) : "\"\""
    batch = (y[2] > x[2]) ? sprintf("%.1f", (y[1] - x[1]) / (y[2] - x[2])) : "\"\""
    printf "\"server_cpu_us\":%s,\"wrk_cpu_us\":%.1f,\"batch_rows\":%s", srv, w / r * 1e6, batch}')
  echo "{\"config\":\"$config\",$extra,${line#\{}" >>"$tmp/results"
}

for round in $(seq "$rounds"); do
  serve "batched (--max-batch 32)" --max-batch 32 --max-delay "$delay"
  serve "--max-batch 1" --max-batch 1
done

printf '%-26s %10s %8s %8s %7s %12s %9s %10s\n' configuration "requests/s" "p50 ms" "p99 ms" errors "server µs/req" "wrk µs/req" "batch rows"
while read -r line; do
  field() { sed -n "s/.*\"$1\":\"\{0,1\}\([0-9.]*\).*/\1/p" <<<"$line"; }
  printf '%-26s %10s %8s %8s %7s %12s %9s %10s\n' \
    "$(sed 's/.*"config":"\([^"]*\)".*/\1/' <<<"$line")" \
    "$(field rps)" "$(field p50_ms)" "$(field p99_ms)" \
    "$(sed 's/.*"non_2xx":\([0-9]*\),"socket_errors":\([0-9]*\).*/\1+\2/' <<<"$line")" \
    "$(field server_cpu_us)" "$(field wrk_cpu_us)" "$(field batch_rows)"
done <"$tmp/results"
# The ratio of the mean throughputs, each configuration's worst p99, and
# the ratio of the mean CPU time per request (server and wrk).
awk '
  function val(k) {
    if (!match($0, "\"" k "\":[0-9.]+")) return 0
    return substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3) + 0
  }
  /"config":"batched/ {b += val("rps"); nb++; if (val("p99_ms") > pb) pb = val("p99_ms"); cb += val("server_cpu_us") + val("wrk_cpu_us")}
  /"config":"--max-batch 1"/ {u += val("rps"); nu++; if (val("p99_ms") > pu) pu = val("p99_ms"); cu += val("server_cpu_us") + val("wrk_cpu_us")}
  END {
    printf "batched / --max-batch 1: %.2fx the requests/s; worst p99 %.1f ms against %.1f ms\n", (b/nb)/(u/nu), pb, pu
    if (cb > 0) printf "CPU time per request, server and wrk: %.0f µs batched, %.0f µs with --max-batch 1 (%.2fx)\n", cb/nb, cu/nu, (cu/nu)/(cb/nb)
  }' "$tmp/results"
