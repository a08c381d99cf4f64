#!/usr/bin/env bash
# Runs one test program of the test matrix (tests/CMakeLists.txt) on its device. Under Oclgrind
# (OCLGRIND_CHECK_API set by the matrix), the simulator's diagnostics (invalid accesses, data
# races, uninitialised values, API misuse) go to a log of their own, and any diagnostic fails the
# entry even when every comparison passed.
# usage: run_on_device.sh PROGRAM [ARGS...]
set -uo pipefail
if [ -z "${OCLGRIND_CHECK_API:-}" ]; then
  exec "$@"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export OCLGRIND_LOG=$log
"$@"
code=$?
if [ -s "$log" ]; then
  echo "Oclgrind reported $(grep -c . "$log") lines of diagnostics (the first 200):"
  head -n 200 "$log"
  [ "$code" -eq 0 ] && code=1
fi
exit "$code"
