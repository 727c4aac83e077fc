#!/usr/bin/env bash
# The README's first command: install what is missing, build, and boot the
# example machine (the guest kit's hello program: it prints the machine it
# found and powers off).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh >/dev/null
exec build/modvmm --machine config/kit-hello.yaml "$@"
