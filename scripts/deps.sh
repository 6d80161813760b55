#!/usr/bin/env bash
# Installs what trnn's tests need and the Go toolchain does not fetch itself:
#   - ONNX Runtime (npm's onnxruntime-node, unpacked with --ignore-scripts);
#     its libonnxruntime.so.1 serves the Go parity tests through cgo;
#   - Debian's libonnx-testdata (ONNX's operator conformance tests) and
#     python3-onnx (onnx.checker), plus python3-numpy for the NPZ tests.
# Safe to run repeatedly: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.30.0
ORT_PREFIX=.deps/ort
ORT_LIB=$ORT_PREFIX/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1

missing=()
for pkg in libonnx-testdata python3-onnx python3-numpy; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$ORT_LIB" ]; then
  echo "deps: installing onnxruntime-node@$ORT_VERSION (npm, --ignore-scripts)"
  mkdir -p "$ORT_PREFIX"
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$ORT_PREFIX" "onnxruntime-node@$ORT_VERSION" >/dev/null
fi
test -f "$ORT_LIB" || { echo "deps: $ORT_LIB missing after npm install" >&2; exit 1; }
