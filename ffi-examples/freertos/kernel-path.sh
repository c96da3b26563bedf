#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Prints the FreeRTOS-Kernel folder of the freertos-next crate, fetching it first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
manifest="$here/kernel/Cargo.toml"
cargo fetch --quiet --manifest-path "$manifest"
crate=$(cargo metadata --quiet --format-version 1 --manifest-path "$manifest" |
	python3 -c 'import json, sys
print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "freertos-next"))')
kernel="$(dirname "$crate")/FreeRTOS-Kernel"
[ -f "$kernel/tasks.c" ] || { echo "kernel-path.sh: no FreeRTOS kernel in $kernel" >&2; exit 1; }
echo "$kernel"
