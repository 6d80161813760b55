#!/usr/bin/env bash
# Measures trnn against the references in one sitting and prints the table
# of performance targets: training throughput against PyTorch (R1, R2, R1
# with GRU layers) and against the GEMM-rate bound, and inference time
# against ONNX Runtime (I1: 256 rows, I2: one row; through Session.Predict
# and Session.Run; on R1's model and on the external LSTM classifier in
# testdata/onnx). For R1's model it also prints the least time its
# multiply-adds take at this machine's measured FMA peak (bench/peak), and
# that plus its gate activations at the rate trnn's exact kernels stream
# (the least time of kernels that keep training's bits).
#
#   BENCH_REF=DIR bench/compare.sh [r1] [r2] [gru] [infer] [external]
#
# DIR holds the reference scripts (make_data.py, torch_tr_bench.py,
# ort_bench.js). The Python ones run under Debian's python3 with
# python3-torch and python3-numpy; ort_bench.js under node with
# onnxruntime-node 1.30.0 (ORT_NODE_PATH, else the project's .deps install,
# else installed into bench/.ortbench with npm --ignore-scripts). With no
# workload named, all of them run (about 8 minutes on 2 cores).
#
# The machines are shared, so each measurement runs ROUNDS times (default
# 2), trnn and its reference back to back, and the best run of each counts:
# compare the ratios, not the absolute numbers. PyTorch trains packed
# (pack_padded_sequence) and padded, and the faster of the two is the anchor.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_REF:?set BENCH_REF to the folder with make_data.py, torch_tr_bench.py and ort_bench.js}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ROUNDS=${ROUNDS:-2}
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(r1 r2 gru infer external)

go build -o bin/trnn ./cmd/trnn
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rows=()

# row WORKLOAD REFERENCE TRNN RATIO TARGET MET appends a line of the table.
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
# best KIND A B: the larger (KIND max) or smaller (min) of two numbers,
# 0 standing for no measurement yet.
best() { awk -v k="$1" -v a="$2" -v b="$3" 'BEGIN {if (a == 0) print b; else if (k == "max") print (b > a) ? b : a; else print (b < a) ? b : a}'; }
json() { "$PY" -c 'import json,sys; print("%.4f" % json.load(sys.stdin)[sys.argv[1]])' "$1"; }

data() { # data NAME F K: bench/NAME.npz from the reference generator
  [ -f "bench/$1.npz" ] || "$PY" "$BENCH_REF/make_data.py" --n 4096 --t 48 --min-t 12 --f "$2" --k "$3" -o "bench/$1.npz" >/dev/null
}

# train NAME SPEC NPZ H BATCH CELL TARGET: trnn against PyTorch's faster
# form; trnn's best figure is left in trained.
trained=0
train() {
  local name=$1 spec=$2 npz=$3 h=$4 batch=$5 cell=$6 target=$7
  local n t p q best_trnn=0 best_torch=0
  n=$("$PY" -c "import numpy, sys; print(len(numpy.load(sys.argv[1])['x']))" "$npz")
  for round in $(seq "$ROUNDS"); do
    ./bin/trnn train "$spec" -o "$out/$name" --force --quiet
    # Throughput over both epochs: sequences / training seconds.
    t=$(awk -F, -v n="$n" 'NR>1 {s+=$NF; total+=n} END {printf "%.1f", total/s}' "$out/$name/metrics.csv")
    p=0
    for packed in 1 0; do
      q=$("$PY" "$BENCH_REF/torch_tr_bench.py" --npz "$npz" --h "$h" --layers 2 --batch "$batch" --epochs 2 --packed $packed --cell "$cell" | json seqs_per_s)
      echo "$name round $round: pytorch --packed $packed $q seq/s" >&2
      p=$(best max "$p" "$q")
    done
    echo "$name round $round: trnn $t seq/s, pytorch (faster form) $p seq/s" >&2
    best_trnn=$(best max "$best_trnn" "$t")
    best_torch=$(best max "$best_torch" "$p")
  done
  local ratio met
  ratio=$(awk -v a="$best_trnn" -v b="$best_torch" 'BEGIN {printf "%.1f", a/b}')
  met=$(awk -v r="$ratio" -v t="$target" 'BEGIN {print (r >= t) ? "yes" : "no"}')
  row "$name training" "$(printf "%.0f seq/s" "$best_torch") (PyTorch)" "$(printf "%.0f seq/s" "$best_trnn")" "${ratio}×" "≥ ${target}×" "$met"
  trained=$best_trnn
}

# limit NPZ SEQS_PER_S: R1 as a share of what the measured GEMM rate allows.
# R1's GEMM work per sequence-step is 3 × its forward (the forward, the
# gradients of the inputs and states, the weight gradients): a layer of H
# units on I inputs does 2·4H·(I+H) FLOP per step forward, the head 2·H·K.
# With a third argument, RATE GFLOP/s stands in for PyTorch's large rate.
limit() {
  local npz=$1 trnn=$2 rates small large steps flop
  if [ -n "${3:-}" ]; then
    small=$3 large=$3
  else
    rates=$("$PY" bench/gemm_rate.py)
    small=$(echo "$rates" | json small_gflops)
    large=$(echo "$rates" | json large_gflops)
  fi
  steps=$("$PY" -c "import numpy, sys; print(numpy.load(sys.argv[1])['lengths'].mean())" "$npz")
  flop=$(awk 'BEGIN {H=64; print 3*(2*4*H*(13+H) + 2*4*H*(H+H) + 2*H*1)}')
  awk -v s="$small" -v l="$large" -v st="$steps" -v f="$flop" -v t="$trnn" 'BEGIN {
    lim = l*1e9 / (f*st)
    printf "R1: %.0f FLOP per sequence-step, %.1f steps per sequence; PyTorch sgemm %.0f GFLOP/s (1024³), %.0f GFLOP/s (32×64·64×256); bound %.0f seq/s\n", f, st, l, s, lim > "/dev/stderr"
    printf "%.0f %.0f %.0f\n", lim, 100*t/lim, l}'
}

# peak sets peak_gflops to this machine's float32 multiply-add rate on all
# cores, GFLOP/s (bench/peak), measured once per run. Not in a subshell,
# or the measurement would not be kept.
peak_gflops=""
peak() {
  [ -n "$peak_gflops" ] ||
    peak_gflops=$(go test ./bench/peak -run '^$' -bench FMAPeak -benchtime 1x | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "gflops") print $i}')
}

# act_ns is trnn's gate activations' time per LSTM unit-step on one core
# when they stream (three sigmoids and two tanh, the exact kernels that
# give training's bits: go test ./ops -bench ActivationVec, the best of
# three), measured once per run.
act_ns=""
activations() {
  [ -n "$act_ns" ] ||
    act_ns=$(go test ./ops -run '^$' -bench 'BenchmarkActivationVec$' -count 3 | awk '
      function lo(a, v) { return (a == "" || v < a) ? v : a }
      {for (i = 1; i < NF; i++) if ($(i+1) == "ns/elem") { if ($1 ~ /sigmoid/) s = lo(s, $i); if ($1 ~ /tanh/) t = lo(t, $i) }}
      END {printf "%.4f", 3*s + 2*t}')
}

# floor NPZ N ORT_MS LABEL: the least time R1's model can take on the first
# N rows of NPZ here, in two rows. First its multiply-adds (the input and
# recurrent products of both layers over each row's valid steps, and the
# head) at the measured peak, with nothing else (gate nonlinearities,
# memory) costing anything: above 0.5× ONNX Runtime's time, the target
# cannot be met on this machine by any implementation. Then the same plus
# the gate activations of every unit-step (2 layers of 64 units) at their
# streaming rate on all cores: the least time of kernels that keep
# training's bits, as both compete for the same floating-point units.
floor() {
  local steps g ms ratio cores exact eratio
  steps=$("$PY" -c "import numpy, sys; print(int(numpy.load(sys.argv[1])['lengths'][:int(sys.argv[2])].sum()))" "$1" "$2")
  peak
  activations
  g=$peak_gflops
  cores=$(getconf _NPROCESSORS_ONLN)
  read -r ms ratio exact eratio < <(awk -v s="$steps" -v n="$2" -v g="$g" -v o="$3" -v a="$act_ns" -v c="$cores" 'BEGIN {
    H = 64; f = s * (2*4*H*(13+H) + 2*4*H*(H+H)) + n * 2*H
    ms = f / (g*1e9) * 1e3
    ex = ms + s * 2 * H * a / c / 1e6
    printf "%.3f %.2f %.3f %.2f\n", ms, ms/o, ex, ex/o}')
  echo "$4: $steps valid steps, $(awk -v s="$steps" 'BEGIN {printf "%.3f", s*(2*4*64*77 + 2*4*64*128)/1e9}') GFLOP; FMA peak $g GFLOP/s; floor $ms ms; activations $act_ns ns a unit-step on one core, $cores cores; exact floor $exact ms" >&2
  row "$4, least time at the FMA peak ($g GFLOP/s, bench/peak)" "$(printf "%.3f ms" "$3") (ONNX Runtime)" "$ms ms (multiply-adds only)" "${ratio}× ORT's time" "≤ 0.5× possible only if < 0.5" "$(awk -v r="$ratio" 'BEGIN {print (r < 0.5) ? "possible" : "impossible"}')"
  row "$4, least time of exact kernels (the multiply-adds at the peak, then the gate activations at $act_ns ns a unit-step a core)" "$(printf "%.3f ms" "$3") (ONNX Runtime)" "$exact ms" "${eratio}× ORT's time" "≤ 0.5× possible only if < 0.5" "$(awk -v r="$eratio" 'BEGIN {print (r < 0.5) ? "possible" : "not with exact kernels"}')"
}

ort_node() {
  if [ -n "${ORT_NODE_PATH:-}" ]; then echo "$ORT_NODE_PATH"; return; fi
  if [ -d .deps/ort/node_modules/onnxruntime-node ]; then echo "$PWD/.deps/ort/node_modules"; return; fi
  [ -d bench/.ortbench/node_modules/onnxruntime-node ] ||
    npm install --ignore-scripts --prefix bench/.ortbench onnxruntime-node@1.30.0 >&2
  echo "$PWD/bench/.ortbench/node_modules"
}

# raw NPZ N PREFIX: the first N rows of NPZ as PREFIX.x.bin (float32
# [N, 48, F]) and PREFIX.l.bin (int32 [N]).
raw() {
  "$PY" -c "import numpy, sys
d = numpy.load(sys.argv[1]); n = int(sys.argv[2])
d['x'][:n].astype('<f4').tofile(sys.argv[3] + '.x.bin'); d['lengths'][:n].astype('<i4').tofile(sys.argv[3] + '.l.bin')" "$1" "$2" "$3"
}

# infer NAME MODEL NPZ F XNAME LNAME: Predict and Run against ONNX Runtime,
# 256 rows and one row. NAME I is R1's model (rows I1 and I2), ext the
# external classifier.
infer() {
  local name=$1 model=$2 npz=$3 f=$4 xname=$5 lname=$6 node n label via ref r ratio met
  node=$(ort_node)
  for n in 256 1; do
    raw "$npz" $n "$out/$name.$n"
    local best_ort=0 best_predict=0 best_run=0 reps=$(( n == 1 ? 3000 : 60 ))
    for round in $(seq "$ROUNDS"); do
      if [ "$xname" = x ]; then
        r=$(NODE_PATH="$node" node "$BENCH_REF/ort_bench.js" "$model" "$out/$name.$n.x.bin" $n 48 "$f" "$out/$name.$n.l.bin" $reps | json ms_per_run)
      else
        r=$(NODE_PATH="$node" node bench/ort_named.js "$model" "$xname" "$out/$name.$n.x.bin" $n 48 "$f" "$lname" "$out/$name.$n.l.bin" $reps | json ms_per_run)
      fi
      best_ort=$(best min "$best_ort" "$r")
      for via in predict run; do
        r=$(./bin/trnn bench infer "$model" --data "$npz" --batch $n --repeat $reps --via $via --json | json ms_per_batch)
        echo "$name batch $n round $round: trnn --via $via $r ms, onnxruntime $best_ort ms" >&2
        if [ $via = predict ]; then best_predict=$(best min "$best_predict" "$r"); else best_run=$(best min "$best_run" "$r"); fi
      done
    done
    case $name,$n in
      I,256) label="I1 (R1's model, batch 256)" ;;
      I,1) label="I2 (R1's model, 1 row)" ;;
      *,256) label="external LSTM classifier, batch 256" ;;
      *) label="external LSTM classifier, 1 row" ;;
    esac
    if [ "$name,$n" = I,256 ]; then floor "$npz" $n "$best_ort" "$label"; fi
    for via in Predict Run; do
      r=$best_predict
      [ $via = Predict ] || r=$best_run
      ratio=$(awk -v a="$r" -v b="$best_ort" 'BEGIN {printf "%.2f", a/b}')
      met=$(awk -v x="$ratio" 'BEGIN {print (x <= 0.5) ? "yes" : "no"}')
      row "$label, \`$via\`" "$(printf "%.3f ms" "$best_ort") (ONNX Runtime, 2 threads)" "$(printf "%.3f ms" "$r")" "${ratio}× ORT's time" "≤ 0.5×" "$met"
    done
  done
}

r1_model=""
for w in "${workloads[@]}"; do
  case $w in
    r1)
      data r1 13 1
      train R1 bench/r1.yaml bench/r1.npz 64 32 lstm 20
      t=$trained
      r1_model="$out/R1/model.onnx"
      read -r lim pct large < <(limit bench/r1.npz "$t")
      met=$(awk -v p="$pct" 'BEGIN {print (p >= 70) ? "yes" : "no"}')
      row "R1 training / GEMM-rate bound" "$lim seq/s (at PyTorch's ${large} GFLOP/s sgemm)" "$(printf "%.0f seq/s" "$t")" "${pct}%" "≥ 70%" "$met"
      # The same bound at the machine's multiply-add peak: where PyTorch's
      # BLAS falls far short of it, its rate is a weak bound.
      peak
      read -r lim pct _ < <(limit bench/r1.npz "$t" "$peak_gflops")
      met=$(awk -v p="$pct" 'BEGIN {print (p >= 70) ? "yes" : "no"}')
      row "R1 training / FMA-peak bound" "$lim seq/s (at the $peak_gflops GFLOP/s FMA peak, bench/peak)" "$(printf "%.0f seq/s" "$t")" "${pct}%" "≥ 70%" "$met"
      ;;
    r2)
      data r2 13 128
      train R2 bench/r2.yaml bench/r2.npz 128 64 lstm 15
      ;;
    gru)
      data r1 13 1
      train "R1 with GRU layers" bench/r1gru.yaml bench/r1.npz 64 32 gru 20
      ;;
    infer)
      data r1 13 1
      if [ -z "$r1_model" ]; then
        ./bin/trnn train bench/r1.yaml -o "$out/R1" --force --quiet
        r1_model="$out/R1/model.onnx"
      fi
      infer I "$r1_model" bench/r1.npz 13 x lengths
      ;;
    external)
      data ext 5 3
      infer ext testdata/onnx/lstm_classifier.onnx bench/ext.npz 5 input seq_lens
      ;;
    *) echo "compare.sh: unknown workload $w (r1, r2, gru, infer or external)" >&2; exit 2 ;;
  esac
done

echo
echo "| workload | reference | trnn | ratio | target | met |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
