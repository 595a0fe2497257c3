#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds crun-ckpt, and runs the demo on the embedded
# defaults: the counter container is started, checkpointed while it counts, restored from the
# image, and shown to continue counting where it stopped (same PID, same memory).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
bin=build/runtime/crun-ckpt
root=$(mktemp -d /tmp/crun-ckpt-demo-XXXXXX)
image="$root/image"
cleanup() {
  "$bin" --root "$root" delete -f counter >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT

echo "== run -d (the embedded counter spec: host root read-only, new namespaces)"
"$bin" --root "$root" run -d
sleep 3
"$bin" --root "$root" ps counter
echo "== output so far"
"$bin" --root "$root" logs counter | tail -n 3
echo "== checkpoint (the container is frozen, dumped, and stopped)"
"$bin" --root "$root" checkpoint --image-path "$image" counter
"$bin" image inspect "$image"
"$bin" image verify "$image"
echo "== restore from the image"
"$bin" --root "$root" restore -d --image-path "$image"
sleep 3
"$bin" --root "$root" ps counter
echo "== output after the restore: the counter continues where it stopped"
"$bin" --root "$root" logs counter | tail -n 4
