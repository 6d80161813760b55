#!/usr/bin/env bash
# Target replication on the heads other than sigmoid labels: a model of 4
# classes and a regression model, trained with alpha 0.5 and with alpha 0
# (the final step alone) on synthetic data whose evidence sits in the first
# steps of sequences 48 to 96 steps long, for each seed given (default 1 2
# 3). Prints the test metrics of each run.
#
#   bench/heads_alpha.sh [SEED...]     TASKS="classes regression" unless TASKS is set
#
# The regression model standardises its targets (normalize_targets: true).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
go build -o bin/trnn ./cmd/trnn
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

spec() { # task outputs alpha seed
  cat <<YAML
name: $1-alpha$3
inputs: {features: 3, normalize: standard}
layers:
  - lstm: {units: 32}
outputs: $2
objective:
  target_replication: {alpha: $3, average: all_steps}
training:
  optimizer: adam
  learning_rate: 0.003
  batch_size: 32
  epochs: 15
  seed: $4
  validation: {split: 0.2}
  test: {split: 0.2}
data:
  train: $1-$4.npz
YAML
}

printf '%-10s %-5s %-5s %s\n' task seed alpha "test metrics"
for task in ${TASKS:-classes regression}; do
  case $task in
    classes) outputs='{classes: [c0, c1, c2, c3]}'; keys='accuracy kappa macro_auroc' ;;
    regression) outputs='{targets: 1, normalize_targets: true}'; keys='r2 mse mae' ;;
  esac
  for seed in "${seeds[@]}"; do
    ./bin/trnn synth -o "$out/$task-$seed.npz" --task $task --n 1000 --min-len 48 --max-len 96 --seed "$seed" >/dev/null
    for alpha in 0.5 0; do
      spec $task "$outputs" $alpha "$seed" >"$out/$task-$alpha-$seed.yaml"
      ./bin/trnn train "$out/$task-$alpha-$seed.yaml" -o "$out/run-$task-$alpha-$seed" --quiet --force
      line=$(/usr/bin/python3 - "$out/run-$task-$alpha-$seed/test.json" $keys <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m = m.get("metrics", m)
print("  ".join(f"{k} {m[k]:.3f}" if isinstance(m.get(k), (int, float)) else f"{k} ?" for k in sys.argv[2:]))
PY
)
      printf '%-10s %-5s %-5s %s\n' $task "$seed" $alpha "$line"
    done
  done
done
