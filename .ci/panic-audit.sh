#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Counts the call sites into Rust's panic machinery that survive in the linked Cortex-M4
# images of the three configurations (built by .ci/size.sh): calls to core::panicking::*, the slice index failure paths,
# and the panic handler. The engine is written so that no input can panic; a call site
# that survives LTO is a panic path the optimiser could not prove dead. Fails above the
# allowed count (0).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALLOWED=0
pattern='panicking|panic_fmt|panic_bounds_check|slice_index_fail|slice_.*_fail|len_mismatch_fail|unwrap_failed|expect_failed|rust_begin_unwind'
audit() {
	local IMAGE=$1 count
	count=$(arm-none-eabi-objdump -d "$IMAGE" | grep -E '\sbl?x?(\.w)?\s+[0-9a-f]+ <' | grep -cE "$pattern" || true)
	echo "panic-audit: $count call sites into the panic machinery in the $2 image (allowed: $ALLOWED)"
	if [ "$count" -gt "$ALLOWED" ]; then
		arm-none-eabi-objdump -d "$IMAGE" | awk -v pat="$pattern" '/^[0-9a-f]+ <.*>:$/ {fn=$2} $0 ~ pat && /\sbl?x?(\.w)?\s/ {print "  in " fn ": " $0}' | head -40
		return 1
	fi
}
status=0
for config in foundation formats default; do
	image=${CARGO_TARGET_DIR:-$ROOT/target}/firmware-$config/image.elf
	[ -f "$image" ] || "$ROOT/.ci/size.sh" "$config" >/dev/null || true
	audit "$image" "$config" || status=1
done
exit $status
