#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Memory errors and undefined behaviour at the C boundary, looked for with two tools:
# AddressSanitizer with UBSan (the C side: the tests, the example, the callbacks the library
# calls) and valgrind's memcheck (the whole program, the library's Rust code included: every
# read of uninitialised or freed memory, every access out of bounds, every leak).
#
#   tests/sanitize.sh abi        every C ABI test (tests/c/*_test.c), once with the
#                                sanitizers and once under memcheck
#   tests/sanitize.sh example    the POSIX example built with the sanitizers: the demo
#                                (IPv4 and IPv6) and the Leshan interop; then the demo under
#                                memcheck
#   tests/sanitize.sh dtls CLIENT
#                                CLIENT (the POSIX example built with the library's DTLS,
#                                raw public keys included) under memcheck against libcoap's
#                                DTLS servers, and against Leshan's bootstrap server and
#                                server over DTLS with pre-shared and raw public keys
#
# Any report fails the run: the sanitizers abort on the first one, memcheck exits 9.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
MEMCHECK=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite)
work=$(mktemp -d "${TMPDIR:-/tmp}/tern-sanitize.XXXXXX")
trap 'rm -rf "$work"' EXIT

abi() {
	cargo rustc --release --quiet --lib --crate-type staticlib
	local t bin failed=0
	for t in tests/c/*_test.c; do
		bin="$work/$(basename "$t" .c)"
		cc -std=c99 -g -Iinclude "${SAN[@]}" -o "$bin-san" "$t" "$target/release/libtern.a"
		cc -std=c99 -g -Iinclude -o "$bin" "$t" "$target/release/libtern.a"
		if "$bin-san" >"$bin-san.log" 2>&1; then
			echo "ok - $t with AddressSanitizer and UBSan"
		else
			echo "not ok - $t with AddressSanitizer and UBSan"
			tail -n 20 "$bin-san.log"
			failed=1
		fi
		if "${MEMCHECK[@]}" "$bin" >"$bin.log" 2>&1; then
			echo "ok - $t under memcheck"
		else
			echo "not ok - $t under memcheck"
			tail -n 30 "$bin.log"
			failed=1
		fi
	done
	return $failed
}

example() {
	local build=build-sanitize client
	client=ffi-examples/posix/$build/tern-client
	# The flags come from the environment so that the Makefile's own are added to them.
	CFLAGS="-O1 -g ${SAN[*]}" LDLIBS="${SAN[*]}" \
		make -C ffi-examples/posix BUILD=$build --no-print-directory --quiet
	TERN_DEMO_CLIENT=$client ffi-examples/posix/demo.sh
	TERN_DEMO_IPV6=1 TERN_DEMO_CLIENT=$client ffi-examples/posix/demo.sh
	tests/interop/leshan/run.sh "$client"
	make -C ffi-examples/posix --no-print-directory --quiet
	TERN_DEMO_WRAP="${MEMCHECK[*]}" ffi-examples/posix/demo.sh
}

dtls() {
	local client
	client=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	# libcoap's script takes one executable: a wrapper that runs the client under memcheck.
	printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${MEMCHECK[*]}" "$client" >"$work/client"
	chmod +x "$work/client"
	tests/interop/libcoap/run.sh "$work/client"
	LESHAN_DTLS_RPK=1 tests/interop/leshan-bs/dtls.sh "$work/client"
}

case ${1:-} in
abi) abi ;;
example) example ;;
dtls) [ $# -eq 2 ] || { echo "usage: $0 dtls CLIENT" >&2; exit 2; }; dtls "$2" ;;
*)
	echo "usage: $0 abi | example | dtls CLIENT" >&2
	exit 2
	;;
esac
