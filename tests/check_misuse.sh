#!/usr/bin/env bash
# Fails when a public function (declared with CLNN_API in include/) has no misuse case in
# tests/test_misuse.c (MISUSE(name, ...) or MISUSE_VALUE(name, ...)), and names it.
#   check_misuse.sh INCLUDE_DIR TEST_FILE
set -euo pipefail
include=$1
test_file=$2
declared=$(cat "$include"/clnn/*.h | tr '\n' ' ' | grep -oE 'CLNN_API [^;(]*\(' |
           sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | grep '^clnn_' | sort -u)
covered=$(tr '\n' ' ' <"$test_file" | grep -oE 'MISUSE(_VALUE)?\([[:space:]]*clnn_[a-z_0-9]+' |
          sed -E 's/.*\([[:space:]]*//' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$covered"))
count=$(echo "$declared" | wc -l)
if [ -n "$missing" ]; then
  echo "public functions without a misuse case in $test_file:" >&2
  echo "$missing" | sed 's/^/  /' >&2
  exit 1
fi
echo "every one of the $count public functions has misuse cases"
