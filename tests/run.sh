#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Runs every test: the Rust unit and integration tests (engine and test server), the C ABI
# checks, the demo, interop against Eclipse Leshan and lwm2m-node-lib, the search for
# undefined behaviour (Miri, AddressSanitizer and UBSan, valgrind memcheck), the protocol
# cases as firmware on QEMU, the firmware image on QEMU with its size budget, and the
# no-heap check.
# Installs what is missing first.
# The last line is "N passed, N failed", counting Rust tests and the other checks.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TERM_COLOR=never

TERN_SKIP_FUZZ_TOOLS=1 "$root/.ci/install.sh" || { echo "installing the test tools failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
failures=()

# check NAME COMMAND...: one check, counted once.
check() {
	local name=$1
	shift
	echo
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "--- ok: $name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "--- FAILED: $name"
	fi
}

# Rust tests are counted one by one from cargo's summaries.
rust_tests() {
	local log
	log=$(mktemp)
	cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
	local status=${PIPESTATUS[0]}
	local p f
	p=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^passed/) s += $i } END { print s + 0 }' "$log")
	f=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/) s += $i } END { print s + 0 }' "$log")
	rm -f "$log"
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$status" -ne 0 ]; then
		failures+=("cargo test")
		[ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
	fi
	echo "--- cargo test: ${p:-0} passed, ${f:-0} failed"
}

header_compiles() {
	gcc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -x c include/tern.h &&
		g++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only -x c++ include/tern.h
}

# c_test FILE: builds one C test against the release library and runs it.
c_test() {
	local bin
	bin=$(mktemp)
	cargo rustc --release --quiet --lib --crate-type staticlib &&
		cc -std=c99 -pedantic -Wall -Wextra -Werror -Iinclude -o "$bin" "$1" "${CARGO_TARGET_DIR:-target}/release/libtern.a" &&
		"$bin"
	local status=$?
	rm -f "$bin"
	return $status
}

client=ffi-examples/posix/build/tern-client

echo "=== Rust tests"
rust_tests
# Access Control with two servers: a build with room for them, in a target dir of its own.
check "Access Control and two servers at once (TERN_MAX_SERVERS=2)" env TERN_MAX_SERVERS=2 \
	CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}/max-servers-2" cargo test --quiet --test access_control --test several_servers
check "clippy (engine lints denied)" cargo clippy --workspace --all-targets --quiet -- -D warnings
check "C header compiles as C99 and C++11" header_compiles
check "C ABI refuses bad arguments" c_test tests/c/abi_test.c
check "C objects: server Create and Delete through the C ABI" c_test tests/c/objects_test.c
check "C objects: value pointers read and written by the library" c_test tests/c/values_test.c
check "C firmware update: push, update and pull through the C ABI" c_test tests/c/firmware_test.c
check "C persistence: the saved state loaded, refused when damaged, store failures reported" c_test tests/c/persist_test.c
check "C Send: tern_send statuses and its outcome events" c_test tests/c/send_test.c
check "C observe: tern_resource_changed and a notification through the C ABI" c_test tests/c/observe_test.c
check "C queue mode: notifications held while asleep leave after the Update, drops reported" c_test tests/c/queue_test.c
check "object generator: every OMA object XML to C that compiles and registers" tests/objgen/run.sh
check "POSIX example builds" make -C ffi-examples/posix --no-print-directory
check "Zephyr module: module.yml and Kconfig consistent, the glue compiles against tern.h" zephyr/check.sh
check "demo against the bundled test server" ffi-examples/posix/demo.sh
check "POSIX example over IPv6 ([::1])" env TERN_DEMO_IPV6=1 ffi-examples/posix/demo.sh
check "FreeRTOS example (POSIX port) builds" make -C ffi-examples/freertos --no-print-directory
check "FreeRTOS example: the client task against the bundled test server" \
	env TERN_DEMO_CLIENT=ffi-examples/freertos/build/tern-freertos ffi-examples/posix/demo.sh
check "interop: Eclipse Leshan server" tests/interop/leshan/run.sh "$client"
check "interop: Eclipse Leshan server, queue mode" env LESHAN_MODE=queue tests/interop/leshan/run.sh "$client"
check "interop: Eclipse Leshan bootstrap server, then the Leshan server" tests/interop/leshan-bs/run.sh "$client"
check "interop: a Leshan server refuses, fallback to the Leshan bootstrap server" env LESHAN_BS_MODE=fallback tests/interop/leshan-bs/run.sh "$client"
check "interop: a Leshan server sends the client back to the Leshan bootstrap server (/1/0/9), which drops its account: De-register first, then the new registration" env LESHAN_BS_MODE=rebootstrap tests/interop/leshan-bs/run.sh "$client"
check "interop: lwm2m-node-lib server" tests/interop/node/run.sh "$client"
# The library's own DTLS (the dtls feature, one session), in a target dir of its own.
dtls_target="${CARGO_TARGET_DIR:-$root/target}/dtls"
check "DTLS 1.2 PSK against OpenSSL s_server -dtls1_2 (handshake, fragments, data both ways, a wrong key, forged records, resumption, renegotiation refused)" \
	env CARGO_TARGET_DIR="$dtls_target" cargo test --quiet --features dtls --test dtls_openssl --test dtls_client
check "DTLS 1.2 Connection ID against Californium's Scandium (data both ways, then a new source port)" \
	env CARGO_TARGET_DIR="$dtls_target" cargo test --quiet --features dtls --test dtls_scandium
# Raw public keys (the dtls-rpk feature) and GnuTLS as a further independent peer.
dtls_rpk_target="${CARGO_TARGET_DIR:-$root/target}/dtls-rpk"
check "DTLS 1.2 PSK and raw public keys against gnutls-serv (handshake, echo both ways, a wrong server key, resumption)" \
	env CARGO_TARGET_DIR="$dtls_rpk_target" cargo test --quiet --features dtls-rpk --test dtls_gnutls --test dtls_client
check "DTLS in the engine: unit tests (raw public key forms, malformed and wrong server messages; a session ended at de-registration and restarted when a request goes unanswered, nothing sent in the clear meanwhile)" \
	env CARGO_TARGET_DIR="$dtls_rpk_target" cargo test --quiet --features dtls-rpk --lib -- dtls:: client::secure::
# Two sessions: a secured bootstrap server's and its LwM2M server's; raw public keys too.
check "POSIX example with the library's DTLS (PSK and raw public keys) builds" env TERN_MAX_DTLS_SESSIONS=2 \
	CARGO_TARGET_DIR="$dtls_rpk_target" \
	make -C ffi-examples/posix BUILD=build-dtls CARGO_FEATURES="--features dtls-rpk" --no-print-directory
check "interop: Leshan over DTLS with a PSK (register, read, observe, de-register; disabled, then back through a new handshake; a wrong key and a wrong identity refused; the key from its bootstrap server, itself over DTLS too) and with raw public keys (a client expecting another server key refuses it; the keys from its bootstrap server, itself over DTLS with raw public keys too)" \
	env LESHAN_DTLS_RPK=1 tests/interop/leshan-bs/dtls.sh ffi-examples/posix/build-dtls/tern-client
# The platform's DTLS, with the keys a bootstrap server writes handed to it (the
# platform-credentials feature), in a target dir of its own.
platform_target="${CARGO_TARGET_DIR:-$root/target}/platform-credentials"
check "bootstrap-written pre-shared keys kept for the platform's DTLS: checked at Finish, persisted, handed to the C credentials callback before open (a refusal fails the connection)" \
	env CARGO_TARGET_DIR="$platform_target" cargo test --quiet --features platform-credentials --test platform_credentials --test bootstrap --test c_abi
check "POSIX example whose platform does the DTLS (OpenSSL) builds" \
	env CARGO_TARGET_DIR="$platform_target" \
	make -C ffi-examples/posix BUILD=build-platform-dtls PLATFORM_DTLS=openssl --no-print-directory
check "interop: Leshan over DTLS done by the platform (OpenSSL) with a PSK (the same cases; the bootstrap-written key handed to the platform's credentials callback)" \
	env LESHAN_DTLS_PLATFORM=1 tests/interop/leshan-bs/dtls.sh ffi-examples/posix/build-platform-dtls/tern-client
# The same with mbedTLS as the platform's DTLS, in the FreeRTOS client task (and the POSIX
# example built with it too, so that it cannot rot).
check "POSIX example whose platform does the DTLS (mbedTLS) builds" \
	env CARGO_TARGET_DIR="$platform_target" \
	make -C ffi-examples/posix BUILD=build-platform-mbedtls PLATFORM_DTLS=mbedtls --no-print-directory
check "FreeRTOS example whose platform does the DTLS (mbedTLS) builds" \
	env CARGO_TARGET_DIR="$platform_target" \
	make -C ffi-examples/freertos BUILD=build-platform-mbedtls PLATFORM_DTLS=mbedtls --no-print-directory
check "interop: Leshan over DTLS done by the platform (mbedTLS, the FreeRTOS client task) with a PSK (the same cases; the bootstrap-written key handed to the platform's credentials callback)" \
	env LESHAN_DTLS_PLATFORM=1 tests/interop/leshan-bs/dtls.sh ffi-examples/freertos/build-platform-mbedtls/tern-freertos
check "interop: libcoap's server over DTLS with a PSK, OpenSSL and GnuTLS back ends, the library's DTLS and the platform's (register, de-register; a wrong key refused)" \
	tests/interop/libcoap/run.sh ffi-examples/posix/build-dtls/tern-client ffi-examples/posix/build-platform-dtls/tern-client
# Miri checks the library's unsafe code (the client built in the caller's storage, the C
# boundary) for undefined behaviour; a target dir of its own (Miri's builds differ).
miri_target="${CARGO_TARGET_DIR:-$root/target}/miri"
check "undefined behaviour: the C ABI driven from Rust under Miri (init checks, an object with handlers and value pointers, Register, Read, Write, Execute, Observe, persistence, close; the platform's credentials callback)" \
	env CARGO_TARGET_DIR="$miri_target" MIRIFLAGS=-Zmiri-strict-provenance \
	cargo +nightly miri test --quiet --features platform-credentials --test c_abi
check "memory errors and undefined behaviour: every C ABI test with AddressSanitizer and UBSan, and under valgrind memcheck" \
	tests/sanitize.sh abi
check "memory errors and undefined behaviour: the POSIX example with AddressSanitizer and UBSan (the demo over IPv4 and IPv6, the Leshan interop), and the demo under valgrind memcheck" \
	tests/sanitize.sh example
check "memory errors and undefined behaviour: the library's DTLS under valgrind memcheck against libcoap's DTLS servers (OpenSSL and GnuTLS) and Leshan (pre-shared and raw public keys, from its bootstrap server too)" \
	tests/sanitize.sh dtls ffi-examples/posix/build-dtls/tern-client
check "interop: lwm2m-node-lib server, the FreeRTOS client task" tests/interop/node/run.sh ffi-examples/freertos/build/tern-freertos
check "FreeRTOS on an emulated Cortex-M3 (QEMU mps2-an385) against Leshan over SLIP" ffi-examples/freertos/cm3/run.sh
check "engine tests on QEMU: Cortex-M3 (mps2-an385) and Cortex-M4F (mps2-an386)" tests/qemu/run.sh
check "Cortex-M4 image, foundation features: size budget and QEMU smoke test" .ci/size.sh foundation
check "Cortex-M4 image, every content format and operation, objects 0-3: size budget and QEMU smoke test" .ci/size.sh formats
check "Cortex-M4 image, default features: size gate and QEMU smoke test" .ci/size.sh default
check "Cortex-M4 image, default features and the library's DTLS with raw public keys: size gates and QEMU smoke test" .ci/size.sh full-dtls
check "Cortex-M4 image, the library's DTLS: flash and RAM per session against their budgets" .ci/size-dtls.sh
check "Cortex-M4 image, default features: RAM one more server costs, against its budget" .ci/size-servers.sh
check "no panic paths in the linked images (the DTLS one: only those inside RustCrypto crates, counted)" .ci/panic-audit.sh
check "no heap in the library" .ci/no-heap.sh

echo
if [ "$failed" -ne 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
