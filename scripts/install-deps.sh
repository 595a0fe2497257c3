#!/usr/bin/env bash
# Installs what crun-ckpt needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail
packages=(
  build-essential cmake pkg-config clang-format
  libyaml-cpp-dev libseccomp-dev libcap-dev libzstd-dev libxxhash-dev
  nlohmann-json3-dev libcli11-dev libnl-3-dev libnl-route-3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  iproute2 iputils-ping procps runc
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
