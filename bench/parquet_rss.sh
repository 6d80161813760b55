#!/usr/bin/env bash
# Peak resident memory of `trnn train` on a Parquet file of N sequences
# (default 40000), streamed through data.shuffle_buffer B (default 2048)
# against the same file loaded whole (a buffer larger than the file), one
# epoch of an LSTM of 16 units. Needs GNU time (/usr/bin/time).
#
#   bench/parquet_rss.sh [N] [B]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-40000}
b=${2:-2048}
go build -o bin/trnn ./cmd/trnn
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./bin/trnn synth -o "$out/big.parquet" --n "$n" >/dev/null
spec() { # buffer
  cat <<YAML
name: rss
inputs: {features: 3, normalize: standard}
layers: [{lstm: {units: 16}}]
outputs: {labels: 1}
training: {epochs: 1, batch_size: 32, seed: 1, validation: {split: 0.05}}
data: {train: big.parquet, shuffle_buffer: $1}
YAML
}
printf 'file: %s sequences, %s bytes\n' "$n" "$(stat -c %s "$out/big.parquet")"
for mode in streamed whole; do
  case $mode in streamed) buf=$b ;; whole) buf=$((n + 1)) ;; esac
  spec $buf >"$out/$mode.yaml"
  /usr/bin/time -f '%M %e' -o "$out/time" ./bin/trnn train "$out/$mode.yaml" -o "$out/run-$mode" --quiet --force
  read -r kb secs <"$out/time"
  printf '%-8s shuffle_buffer %-6s peak RSS %6.1f MB  %s s\n' $mode $buf "$(echo "$kb/1024" | bc -l)" "$secs"
done
