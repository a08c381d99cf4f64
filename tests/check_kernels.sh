#!/usr/bin/env bash
# Compiles every kernels/*.cl as strict OpenCL C 1.2 with clang (-cl-std=CL1.2 -Werror, syntax
# only), since vendor compilers accept less than POCL does, as for GPUs, with -DCLNN_CPU_FORMS
# -DCLNN_USE_PREFETCH (the CPU forms of kernels/common.h) and with -DCLNN_CPU_FORMS
# -DCLNN_LANEWISE_MATH (rusticl's CPU forms, src/profile.c). Exits 77 (skipped) without clang.
# usage: check_kernels.sh CLANG KERNEL_DIR
clang=${1:-}
dir=$2
if [ -z "$clang" ] || ! [ -x "$clang" ]; then
  echo "clang not found: cannot run the strict OpenCL C 1.2 check"
  exit 77
fi
failed=0
for device in "" "-DCLNN_CPU_FORMS -DCLNN_USE_PREFETCH" "-DCLNN_CPU_FORMS -DCLNN_LANEWISE_MATH"; do
  for kernel in "$dir"/*.cl; do
    # shellcheck disable=SC2086  # $device is empty or a list of options
    if out=$("$clang" -x cl -cl-std=CL1.2 -Xclang -finclude-default-header -fsyntax-only \
               -Werror -Wall -Wextra $device -I "$dir" "$kernel" 2>&1); then
      echo "ok      $(basename "$kernel") ${device}"
    else
      echo "FAILED  $(basename "$kernel") ${device}"
      echo "$out"
      failed=1
    fi
  done
done
exit $failed
