#!/usr/bin/env bash
# Installs what clnn needs to build, test and run on Debian 12, with apt-get. Idempotent: when every
# package is already present it asks dpkg only and returns in well under a second.
set -euo pipefail

packages=(
  build-essential cmake pkgconf            # toolchain
  clang libclang-rt-14-dev                 # strict OpenCL C 1.2 check, sanitizer build
  ocl-icd-opencl-dev opencl-headers        # OpenCL ICD loader and headers
  pocl-opencl-icd                          # the CPU OpenCL device used by tests and CI
  oclgrind mesa-opencl-icd                 # test matrix: Oclgrind (simulated GPU), rusticl/llvmpipe
  libclblast-dev                           # GEMM
  libopenblas-dev                          # the dense benchmark's peer (optional)
  libdnnl-dev                              # oneDNN 2.6: the conv benchmark's peer (optional)
  libcmocka-dev                            # unit tests
  zlib1g-dev                               # crc32 for checkpoints, gzip'd IDX data
  liblapacke-dev                           # QR for orthogonal initialisation
  dataset-fashion-mnist                    # the trainer's default data
)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != "installed" ]; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root (or install sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
