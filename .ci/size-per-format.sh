#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Flash per content format: links the Cortex-M4 image (.ci/size.sh) with the foundation
# features alone (text, opaque, link, TLV), then with each record format added on its
# own, and with the default features (every format, Write-Attributes, Create and Delete),
# and prints what each one adds. A report, not a gate.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
flash_of() { # configuration -> library flash in bytes
    "$ROOT/.ci/size.sh" "$1" 2>&1 | sed -n 's/^  flash *\([0-9]*\) .*/\1/p' | tail -n1
}
base=$(flash_of foundation)
[ -n "$base" ] || { echo "size-per-format: the foundation image did not build" >&2; exit 1; }
printf '%-34s %8s %8s\n' "configuration (thumbv7em-none-eabihf)" flash added
printf '%-34s %8d %8s\n' "text, opaque, link, TLV" "$base" "-"
for feature in senml-json senml-cbor lwm2m-cbor json; do
    flash=$(flash_of "only-$feature")
    [ -n "$flash" ] || { echo "size-per-format: the $feature image did not build" >&2; exit 1; }
    printf '%-34s %8d %+8d\n' "  + $feature" "$flash" "$((flash - base))"
done
all=$(flash_of formats)
[ -n "$all" ] || { echo "size-per-format: the formats image did not build" >&2; exit 1; }
printf '%-34s %8d %+8d\n' "default features (every format," "$all" "$((all - base))"
printf '%s\n' "  attributes, create-delete)"
