#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Flash per content format and per optional part: links the Cortex-M4 image (.ci/size.sh)
# with the foundation features alone (text, opaque, link, TLV), then with each record
# format added on its own, with the device-management issue's set (every format and
# operation, objects 0 to 3), with each other feature added alone to the foundation, and
# with the default features, and prints what each one adds. A report, not a gate.
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
printf '%-34s %8d %+8d\n' "every format, every operation," "$all" "$((all - base))"
printf '%s\n' "  objects 0 to 3 (issue budget)"
# observe needs a critical section: the C library's comes with c-critical-section.
for feature in attributes create-delete blockwise access-control device-time server-extra value-pointers \
	firmware-update connectivity-monitoring location connectivity-statistics persistence queue-mode send \
	"observe c-critical-section" bootstrap dtls dtls-rpk; do
	flash=$(flash_of "only-$feature")
	[ -n "$flash" ] || { echo "size-per-format: the $feature image did not build" >&2; exit 1; }
	printf '%-34s %8d %+8d\n' "  foundation + $feature" "$flash" "$((flash - base))"
done
default=$(flash_of default)
[ -n "$default" ] || { echo "size-per-format: the default image did not build" >&2; exit 1; }
printf '%-34s %8d %+8d\n' "default features" "$default" "$((default - base))"
