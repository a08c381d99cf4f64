#!/usr/bin/env bash
# Installs the built clnn into a temporary prefix, then builds and runs a small program against
# it twice: with CMake's find_package(clnn) and with pkg-config.
# usage: check_install.sh BUILD_DIR CONSUMER_SOURCE_DIR C_COMPILER
set -euo pipefail
build=$1
source=$2
cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libclnn.so' | head -n 1)")
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
real=$(readlink -f "$libdir/libclnn.so")
echo "installed: $(ls "$libdir" | tr '\n' ' ')"
case "$(basename "$real")" in
  libclnn.so.*.*.*) ;;
  *) echo "libclnn.so does not point at a versioned library: $real"; exit 1 ;;
esac

echo "== find_package(clnn)"
cmake -S "$source" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer"

echo "== pkg-config clnn"
export PKG_CONFIG_PATH=$libdir/pkgconfig
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/consumer-pc" "$source/consumer.c" \
  $(pkg-config --cflags --libs clnn)
"$work/consumer-pc"
