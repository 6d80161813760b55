#!/usr/bin/env bash
# The in-hospital mortality example (examples/mimic3-ihm.yaml) on synthetic
# ICU stays (trnn synth --mimic3), trained as written (forward fill with
# indicators), with missing: zero, mean and forward_fill without
# indicators, for each seed given (default 1 2 3), on the same stays. Prints
# each run's test AUROC.
#
#   bench/ihm_missing.sh [SEED...]        N=3000 stays unless N is set
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
n=${N:-3000}
go build -o bin/trnn ./cmd/trnn
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./bin/trnn synth --mimic3 -o "$out/stays/" --n "$n" >/dev/null
cp examples/mimic3-ihm.yaml "$out/ffill.yaml"
variant() { # missing mode, indicators
  sed -e "s/^  missing: forward_fill .*/  missing: $1/" -e "s/^  indicators: true .*/  indicators: $2/" examples/mimic3-ihm.yaml
}
variant zero false >"$out/zero.yaml"
variant mean false >"$out/mean.yaml"
variant forward_fill false >"$out/ffill-noind.yaml"
grep -q '^  indicators: false' "$out/zero.yaml" || { echo "ihm_missing.sh: could not rewrite the spec" >&2; exit 1; }
printf '%-30s %-5s %s\n' setting seed "test AUROC [95% interval]"
for seed in "${seeds[@]}"; do
  for s in ffill zero mean ffill-noind; do
    ./bin/trnn train "$out/$s.yaml" --data "$out/stays/" --seed "$seed" -o "$out/run-$s-$seed" --quiet --force
    auroc=$(/usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
met = m.get("metrics", m)
v = met["auroc"]
ci = m.get("bootstrap", {}).get("intervals", {}).get("auroc")
print("%.3f" % v + (" [%.3f, %.3f]" % (ci["lo"], ci["hi"]) if ci else ""))' "$out/run-$s-$seed/test.json")
    case $s in
      ffill) label="forward_fill + indicators" ;;
      zero) label="zero, no indicators" ;;
      mean) label="mean, no indicators" ;;
      ffill-noind) label="forward_fill, no indicators" ;;
    esac
    printf '%-30s %-5s %s\n' "$label" "$seed" "$auroc"
  done
done
