#!/usr/bin/env bash
# Quick start, first command: installs what is missing, builds, and runs the main job: clnn-train
# learns Fashion-MNIST on the default device (arguments are passed to clnn-train).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
exec "${CLNN_BUILD_DIR:-$root/build}/clnn-train" "$@"
