#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# What the library's own DTLS costs a Cortex-M4 application (the security issue's budgets):
# the linked image of .ci/size.sh with the foundation features, and with the foundation
# plus each DTLS feature; prints the flash and RAM each adds and fails when the flash
# added passes its gate (a ratchet at the measured figure while it is above the budget)
# or the RAM of one session passes its budget.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# feature  flash budget (bytes added)  flash gate  RAM budget per session
# (the dtls gate: 27.6 KB measured for the handshake and records, then about 2.2 KB more for
# fragment reassembly, Connection ID, resumption and the refused renegotiation, and 0.4 KB
# for ending a session when its connection is released or a request goes unanswered, less
# 1.4 KB for aes's compact backend, .cargo/config.toml; 34 B for a response waiting in the
# message buffer, which a handshake flight must not overwrite; 85 B as the smaller per-server
# state, byte-counted URIs and Location, is laid out differently with DTLS; −1,763 B for
# sha2's rolled SHA-256 rounds, its force-soft-compact feature; +20 B as the faster float
# parser costs 20 B more with DTLS than in the foundation; −218 B with hmac's SimpleHmac;
# −12,890 B with link-time optimisation, the static library built alone, and aes built at
# the library's opt-level, smaller under LTO than at opt-level 3; −235 B with one function
# each for a record in the clear and a protected one, and one for the server's Finished;
# −114 B with datagrams opened in place, not copied to the stack first; −152 B with the
# handshakes' deadline found in a plain loop and the session id taken in place; −1,268 B
# with AES-128-CCM-8 written on aes, src/dtls/ccm.rs, without the ccm crate's generic
# layers; +848 B since the image secures a server through the C API, as an application
# does, and replays a recorded handshake: tern_client_set_psk and the session it makes
# were left out of the image before, and of the figure; −863 B with the pre-shared key
# borrowed until the session copies it, SHA-256's buffering and HMAC on sha2's compression
# function, a smaller replay window, the ClientHello written in place and the server's CID
# copied in place: within the budget now, the gate stays at the measured figure; −26 B with
# the reassembly copied without copy_from_slice's length check)
CONFIGS=(
	"dtls 12288 12217 2048"
	# PSK plus raw public keys (P-256 arithmetic): the issue's +40 KB, gated by a ratchet
	# at the measured figure while above it (+80 B with responses written after the request,
# +72 B with the smaller per-server state; −1,763 B for sha2's rolled rounds;
# +20 B, as above, for the faster float parser; −8,289 B with points read and written on
# p256's field elements instead of sec1's EncodedPoint, whose expect pulled core's
# formatting and der's error descriptions in; −334 B without core's memchr; −450 B with
# the PRF on hmac's SimpleHmac, which RFC 6979's signing already uses; −1,368 B with the
# ECDSA verification written on p256's arithmetic; −621 B with the signing too, its nonce
# from the rfc6979 crate; −411 B inverting with Scalar's CtOption, not NonZeroScalar's
# unwrap; −50 B with one SHA-256 helper for the two hashes of the key exchange; −18,189 B
# with link-time optimisation: within the budget now, the gate stays at the measured figure;
# −273 B with the shared record writers; +58 B with this client's public key derived by
# the first handshake that sends it, not when a session is made; −152 B as for PSK;
# −1,250 B with the engine's own AES-128-CCM-8, as for PSK; +1,621 B with the image
# securing a server through the C API, tern_client_set_rpk's key parsing included;
# +83 B with SHA-256 and HMAC on sha2's compression function, RFC 6979's signing keeping
# the digest crate's, less the savings shared with PSK; −1,648 B with RFC 6979's nonce on
# the engine's HMAC: the rfc6979, hmac and digest crates are gone).
	"dtls-rpk 40960 28580 2048"
)
figure() { # configuration, line label -> the first number on that line of size.sh's report
	sed -n "s/^  $2 *\([0-9]*\) .*/\1/p" "$1" | tail -n1
}
measure() { # configuration -> "flash ram" of its image
	local log
	log=$(mktemp)
	"$ROOT/.ci/size.sh" "$1" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
	echo "$(figure "$log" flash) $(figure "$log" ram)"
	rm -f "$log"
}
read -r base_flash base_ram < <(measure foundation)
status=0
printf '%-10s %12s %18s %14s %22s\n' feature "image flash" "flash added" "RAM added" "budget (flash, RAM)"
for entry in "${CONFIGS[@]}"; do
	read -r feature budget gate ram_budget <<<"$entry"
	read -r flash ram < <(measure "only-$feature")
	added=$((flash - base_flash))
	ram_added=$((ram - base_ram))
	printf '%-10s %12d %+18d %+14d %14d, %d\n' "$feature" "$flash" "$added" "$ram_added" "$budget" "$ram_budget"
	if [ "$added" -gt "$budget" ]; then
		echo "size-dtls: warning: $feature adds $added bytes of flash, over the $budget budget by $((added - budget))"
	fi
	if [ "$added" -gt "$gate" ]; then
		echo "size-dtls: FAIL: $feature adds $added bytes of flash, above the gate of $gate" >&2
		status=1
	fi
	# One session and the buffer datagrams are sealed in (there for one session or more).
	if [ "$ram_added" -gt "$ram_budget" ]; then
		echo "size-dtls: FAIL: $feature adds $ram_added bytes of RAM for one session, over $ram_budget" >&2
		status=1
	fi
done
exit $status
