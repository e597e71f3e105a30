#!/usr/bin/env bash
# Installs the system packages Fathom builds against, if missing (Debian/Ubuntu):
# OpenBLAS (pthread variant, for GEMM), pkg-config (to find it) and zlib (gzip data files).
set -euo pipefail
if pkg-config --exists openblas 2>/dev/null && [ -f /usr/include/zlib.h ]; then
    exit 0
fi
echo "Fathom setup: installing libopenblas-dev and pkg-config with apt-get"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libopenblas-pthread-dev libopenblas-dev pkg-config zlib1g-dev >/dev/null
pkg-config --exists openblas || { echo "Fathom setup: OpenBLAS still not found by pkg-config" >&2; exit 1; }
