#!/usr/bin/env bash
# Measures trnn's training throughput against the PyTorch reference on the
# benchmark workloads, in one sitting, and prints the ratio.
#
#   BENCH_REF=DIR bench/compare.sh [r1] [r2]
#
# DIR holds the reference scripts (make_data.py, torch_tr_bench.py). They
# run under Debian's python3 with python3-torch and python3-numpy. Each
# workload trains trnn and PyTorch on the same NPZ file, twice each,
# alternating, and reports the better run of each: the machines are shared,
# so compare the ratio, not the absolute numbers. PyTorch runs packed
# (pack_padded_sequence) and padded, and the faster of the two counts.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_REF:?set BENCH_REF to the folder with make_data.py and torch_tr_bench.py}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(r1)

go build -o bin/trnn ./cmd/trnn
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for w in "${workloads[@]}"; do
  case $w in
    r1) k=1; h=64; batch=32 ;;
    r2) k=128; h=128; batch=64 ;;
    *) echo "compare.sh: unknown workload $w (r1 or r2)" >&2; exit 2 ;;
  esac
  [ -f "bench/$w.npz" ] || "$PY" "$BENCH_REF/make_data.py" --n 4096 --t 48 --min-t 12 --f 13 --k $k -o "bench/$w.npz" >/dev/null
  n=$("$PY" -c "import numpy, sys; print(len(numpy.load(sys.argv[1])['x']))" "bench/$w.npz")
  best_trnn=0; best_torch=0
  for round in 1 2; do
    ./bin/trnn train "bench/$w.yaml" -o "$out/$w" --force --quiet
    # Throughput over both epochs: sequences / training seconds.
    t=$(awk -F, -v n="$n" 'NR>1 {s+=$NF; total+=n} END {printf "%.1f", total/s}' "$out/$w/metrics.csv")
    # PyTorch both ways, packed and padded: whichever is faster on this CPU
    # is the anchor.
    p=0
    for packed in 1 0; do
      q=$("$PY" "$BENCH_REF/torch_tr_bench.py" --npz "bench/$w.npz" --h $h --layers 2 --batch $batch --epochs 2 --packed $packed |
          "$PY" -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["seqs_per_s"])')
      echo "$w round $round: pytorch --packed $packed $q seq/s"
      p=$(awk -v a="$p" -v b="$q" 'BEGIN {print (b>a)?b:a}')
    done
    echo "$w round $round: trnn $t seq/s, pytorch (faster packing) $p seq/s"
    best_trnn=$(awk -v a="$best_trnn" -v b="$t" 'BEGIN {print (b>a)?b:a}')
    best_torch=$(awk -v a="$best_torch" -v b="$p" 'BEGIN {print (b>a)?b:a}')
  done
  awk -v w="$w" -v a="$best_trnn" -v b="$best_torch" \
    'BEGIN {printf "%s: trnn %.0f seq/s, pytorch %.0f seq/s, ratio %.2fx\n", w, a, b, a/b}'
done
