#!/usr/bin/env bash
# Configures and builds clnn into build/ (or $CLNN_BUILD_DIR). Extra arguments go to cmake.
# Under CI (CI=true) warnings are errors.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CLNN_BUILD_DIR:-$root/build}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${CLNN_BUILD_TYPE:-Release} -DCLNN_WERROR=$werror "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
