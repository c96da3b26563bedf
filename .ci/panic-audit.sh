#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Counts the call sites into Rust's panic machinery that survive in the linked Cortex-M4
# images built by .ci/size.sh: calls to core::panicking::*, the slice index failure paths,
# and the panic handler. The engine is written so that no input can panic; a call site
# that survives LTO is a panic path the optimiser could not prove dead. Fails above the
# allowed count: 0 in the three images without DTLS. The full-dtls image (the default
# build with the library's DTLS and raw public keys) keeps 21: bounds checks in the aes
# crate's fixsliced rounds and key schedule (inlined into src/dtls/ccm.rs), which no input
# reaches, and the panic machinery's own calls between its functions (28 while RFC 6979's
# nonce came from the rfc6979, hmac and digest crates, and the reassembly copied with
# copy_from_slice). There the count is a ratchet, and every site is listed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pattern='panicking|panic_fmt|panic_bounds_check|slice_index_fail|slice_.*_fail|len_mismatch_fail|unwrap_failed|expect_failed|rust_begin_unwind'
audit() { # image, configuration, allowed count
	local image=$1 allowed=$3 count
	count=$(arm-none-eabi-objdump -d "$image" | grep -E '\sbl?x?(\.w)?\s+[0-9a-f]+ <' | grep -cE "$pattern" || true)
	echo "panic-audit: $count call sites into the panic machinery in the $2 image (allowed: $allowed)"
	if [ "$count" -gt 0 ]; then
		arm-none-eabi-objdump -d "$image" | awk -v pat="$pattern" '/^[0-9a-f]+ <.*>:$/ {fn=$2} $0 ~ pat && /[[:space:]]bl?x?(\.w)?[[:space:]]/ {print "  in " fn ": " $0}' | head -40
	fi
	[ "$count" -le "$allowed" ]
}
status=0
for entry in "foundation 0" "formats 0" "default 0" "full-dtls 21"; do
	read -r config allowed <<<"$entry"
	image=${CARGO_TARGET_DIR:-$ROOT/target}/firmware-$config/image.elf
	[ -f "$image" ] || "$ROOT/.ci/size.sh" "$config" >/dev/null || true
	audit "$image" "$config" "$allowed" || status=1
done
exit $status
