#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Builds zephyr/samples/client with the Zephyr tree at $ZEPHYR_BASE for $BOARD and, for
# native_sim, qemu_cortex_m3 and mps2_an385 (the last two in QEMU), runs it against the
# bundled test server (tern-test-server, demo scenario) through a TAP interface in a
# network namespace of its own, which it deletes afterwards: nothing reaches any other
# network. The run needs root (ip netns).
#
#   ZEPHYR_BASE=/path/to/zephyr [BOARD=native_sim_64] zephyr/build-sample.sh
#
# BOARD: native_sim_64 on Zephyr 3.x, native_sim/native/64 on 4.x (the default is picked
# from the tree), qemu_cortex_m3 or mps2_an385 (they need qemu-system-arm and an Arm
# toolchain, e.g. ZEPHYR_TOOLCHAIN_VARIANT=cross-compile
# CROSS_COMPILE=/usr/bin/arm-none-eabi-, and, without west, the CMSIS module in
# TERN_ZEPHYR_MODULES).
# Environment: BUILD_DIR (default /tmp/tern-zephyr-$BOARD), TERN_ZEPHYR_MODULES (more
# module paths, ';'-separated, used when the tree is not a west workspace), TERN_SAMPLE_RUN
# (0: build only), EXTRA_CONF_FILE (overlays, ';'-separated, relative to the sample).
#
# TLS=1: the sample with overlay-tls.conf (Zephyr's DTLS sockets, mbedTLS, its PSK in the
# sec_tag of Security instance 0), run against Eclipse Leshan's DTLS server
# (tests/interop/leshan-bs, LeshanDtls: built by its setup.sh, which needs Maven and a JDK)
# instead of the test server: it must register over DTLS with its PSK identity, answer a
# Read of /3/0/0, /3/0 and an Observe of the temperature, and de-register.
# TLS=bootstrap: with overlay-tls-bootstrap.conf as well: no server or key of its own;
# Leshan's bootstrap server (LeshanBootstrap, plain CoAP) writes a coaps:// account with a
# PSK, which the glue adds to its sec_tag (CONFIG_TERN_PLATFORM_CREDENTIALS), and the same
# checks follow. Without a west workspace, ZEPHYR_MBEDTLS names Zephyr's mbedTLS module
# (a checkout of zephyrproject-rtos/mbedtls at the revision the tree's west.yml pins).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
: "${ZEPHYR_BASE:?set ZEPHYR_BASE to a Zephyr tree}"
export ZEPHYR_BASE
if [ -z "${BOARD:-}" ]; then
	if [ -e "$ZEPHYR_BASE/boards/posix/native_sim/native_sim_64.dts" ]; then
		BOARD=native_sim_64
	else
		BOARD=native_sim/native/64
	fi
fi
case "$BOARD" in
native_sim*) runner=native; export ZEPHYR_TOOLCHAIN_VARIANT=${ZEPHYR_TOOLCHAIN_VARIANT:-host} ;;
qemu_cortex_m3) runner=qemu; qemu_machine=lm3s6965evb; qemu_nic=stellaris ;;
mps2_an385 | mps2/an385) runner=qemu; qemu_machine=mps2-an385; qemu_nic=lan9118 ;;
*) runner= ;;
esac
build=${BUILD_DIR:-/tmp/tern-zephyr-${BOARD//\//_}}
tls=${TLS:-0}
case "$tls" in
0) ;;
1) EXTRA_CONF_FILE="overlay-tls.conf${EXTRA_CONF_FILE:+;$EXTRA_CONF_FILE}" ;;
bootstrap) EXTRA_CONF_FILE="overlay-tls.conf;overlay-tls-bootstrap.conf${EXTRA_CONF_FILE:+;$EXTRA_CONF_FILE}" ;;
*) echo "TLS is 0, 1 or bootstrap" >&2; exit 2 ;;
esac
# The keys the sample and Leshan share: the overlay's.
overlay_value() { sed -n "s/^CONFIG_$1=\"\(.*\)\"\$/\1/p" "$here/samples/client/overlay-tls.conf"; }
psk_identity=$(overlay_value TERN_SAMPLE_PSK_IDENTITY)
psk_key=$(overlay_value TERN_SAMPLE_PSK)

# Modules: west's list plus this repository, or (no west workspace) the list given.
module_args=()
if (cd "$ZEPHYR_BASE" && west topdir >/dev/null 2>&1); then
	module_args+=("-DEXTRA_ZEPHYR_MODULES=$root")
else
	modules="$root${TERN_ZEPHYR_MODULES:+;$TERN_ZEPHYR_MODULES}"
	if [ "$tls" != 0 ]; then
		: "${ZEPHYR_MBEDTLS:?set ZEPHYR_MBEDTLS to the mbedTLS module of the tree (TLS)}"
		modules="$modules;$ZEPHYR_MBEDTLS"
	fi
	module_args+=("-DZEPHYR_MODULES=$modules")
fi
conf_args=()
[ -n "${EXTRA_CONF_FILE:-}" ] && conf_args+=("-DEXTRA_CONF_FILE=$EXTRA_CONF_FILE")
# The demo scenario waits for a de-registration: the sample de-registers after 15 s.
echo "== building the sample for $BOARD in $build"
cmake -GNinja -S "$here/samples/client" -B "$build" -DBOARD="$BOARD" "${module_args[@]}" \
	"${conf_args[@]}" -DCONFIG_TERN_SAMPLE_DEREGISTER_AFTER=15 >"$build.cmake.log" 2>&1 ||
	{ cat "$build.cmake.log"; exit 1; }
ninja -C "$build"
size=$(command -v "${CROSS_COMPILE:-}size" || command -v size)
"$size" "$build/zephyr/zephyr.elf"

if [ -z "$runner" ] || [ "${TERN_SAMPLE_RUN:-1}" = 0 ]; then
	exit 0
fi

# The run: namespace, TAP "zeth" at 192.0.2.2/24 (the sample is 192.0.2.1), the server on
# the namespace's loopback and a UDP relay from 192.0.2.2 to it: the test server on 5683,
# or (TLS) Leshan's DTLS server on 5684 and its bootstrap server on 5683.
if [ "$tls" = 0 ]; then
	echo "== building the test server"
	(cd "$root" && cargo build --release --quiet -p tern-test-server)
	server_bin=${CARGO_TARGET_DIR:-$root/target}/release/tern-test-server
else
	echo "== building the Leshan programs"
	leshan=$root/tests/interop/leshan-bs
	"$leshan/setup.sh"
	jars="$leshan/target/tern-leshan-bootstrap.jar:$leshan/target/deps/*"
fi
ns=tern-zephyr-$$
log=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$log"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev zeth mode tap
ip -n "$ns" addr add 192.0.2.2/24 dev zeth
ip -n "$ns" link set zeth up

# start NAME SECONDS COMMAND...: runs COMMAND in the namespace with its output in
# $log/NAME and waits until it prints "LISTENING <port>"; sets $port and $started.
start() {
	local name=$1 secs=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log/$name" 2>"$log/$name.err" </dev/null &
	started=$!
	pids+=("$started")
	port=
	for _ in $(seq $((secs * 10))); do
		port=$(awk '/^LISTENING/ {print $2; exit}' "$log/$name" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { echo "$name did not start"; cat "$log/$name" "$log/$name.err"; exit 1; }
}
# relay PORT SERVER_PORT: 192.0.2.2:PORT to 127.0.0.1:SERVER_PORT.
relay() {
	rm -f "$log/relay-$1"
	ip netns exec "$ns" python3 "$here/tests/udp-relay.py" 192.0.2.2 "$1" "$2" >"$log/relay-$1" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do grep -q RELAYING "$log/relay-$1" && break; sleep 0.1; done
	echo "== $3 on 127.0.0.1:$2 in namespace $ns, relayed from 192.0.2.2:$1"
}

if [ "$tls" = 0 ]; then
	start server 10 "$server_bin" --scenario demo --endpoint tern-zephyr --timeout 60
	server_pid=$started
	relay 5683 "$port" "test server"
else
	start server 30 java -cp "$jars" org.tern.interop.LeshanDtls --port 0 --endpoint tern-zephyr \
		--identity "$psk_identity" --key "$psk_key" --timeout 60
	server_pid=$started
	relay 5684 "$port" "Leshan (DTLS, PSK identity $psk_identity)"
	if [ "$tls" = bootstrap ]; then
		start bootstrap 30 java -cp "$jars" org.tern.interop.LeshanBootstrap --port 0 --endpoint tern-zephyr \
			--server-uri coaps://192.0.2.2:5684 --lifetime 60 --timeout 60 \
			--psk-identity "$psk_identity" --psk-key "$psk_key"
		relay 5683 "$port" "Leshan's bootstrap server (writes coaps://192.0.2.2:5684 and the PSK)"
	fi
fi

# client FILE SECONDS: starts the sample in the namespace for at most SECONDS, its output in
# $log/FILE; sets $client_pid.
client() {
	if [ "$runner" = native ]; then
		ip netns exec "$ns" "$build/zephyr/zephyr.exe" --stop_at="$2" >"$log/$1" 2>&1 &
	else
		# QEMU's Ethernet controller (Stellaris, LAN9118) on the same TAP interface.
		ip netns exec "$ns" timeout "$2" qemu-system-arm -cpu cortex-m3 -machine "$qemu_machine" -nographic \
			-monitor none -kernel "$build/zephyr/zephyr.elf" \
			-nic "tap,model=$qemu_nic,ifname=zeth,script=no,downscript=no" </dev/null >"$log/$1" 2>&1 &
	fi
	client_pid=$!
	pids+=("$client_pid")
}
client client 40
server_status=0
wait "$server_pid" || server_status=$?
# The sample logs "stopped: ..." once its de-registration is over.
for _ in $(seq 150); do grep -q "stopped:" "$log/client" && break; sleep 0.1; done
sleep 0.5
kill "$client_pid" 2>/dev/null || true
wait "$client_pid" 2>/dev/null || true
echo "== sample output"
cat "$log/client"
echo "== server output"
cat "$log/server"
if [ "$tls" = bootstrap ]; then
	echo "== bootstrap server output"
	cat "$log/bootstrap"
fi
failed=0
# expect WHAT COMMAND...: prints "ok WHAT" or "FAILED WHAT".
expect() {
	local what=$1
	shift
	if "$@"; then echo "ok - $what"; else echo "FAILED - $what"; failed=1; fi
}
line() { grep -m1 -E "^$1" "$log/server" || true; }
if [ "$tls" = 0 ]; then
	expect "the test server's demo scenario passed (exit status $server_status)" test "$server_status" -eq 0
else
	expect "Leshan's scenario passed (exit status $server_status)" test "$server_status" -eq 0
	if [ "$tls" = bootstrap ]; then
		expect "bootstrapped by Leshan's bootstrap server ($(grep -m1 '^BOOTSTRAPPED' "$log/bootstrap" || true))" \
			grep -q -x "BOOTSTRAPPED ep=tern-zephyr" "$log/bootstrap"
		expect "the written PSK went into a sec_tag ($(grep -m1 -o 'sec_tag [0-9]*: PSK identity.*' "$log/client" || true))" \
			grep -q -E "sec_tag [0-9]+: PSK identity $psk_identity of security instance [0-9]+" "$log/client"
	fi
	expect "registered over DTLS with the PSK identity ($(line "REGISTERED "))" \
		grep -q -E "^REGISTERED ep=tern-zephyr lt=60 lwm2m=1.1 secure=true identity=$psk_identity\$" "$log/server"
	expect "Read /3/0/0 answered ($(line "READ /3/0/0 "))" grep -q -x "READ /3/0/0 205 tern" "$log/server"
	expect "Read /3/0 in TLV answered ($(line "READ /3/0 "))" grep -q -E "^READ /3/0 205 [1-9][0-9]*\$" "$log/server"
	expect "a notification of /3303/0/5700 ($(line "NOTIFY "))" grep -q -E "^NOTIFY /3303/0/5700 [0-9.-]+\$" "$log/server"
	expect "de-registered (Leshan)" grep -q -x DEREGISTERED "$log/server"
fi
expect "de-registered (the sample)" grep -q "stopped: de-registered" "$log/client"

# TLS=1: the same sample against a Leshan that expects another key must not get in.
if [ "$tls" = 1 ]; then
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	pids=()
	echo "== the same sample against Leshan with another key for its PSK identity"
	start wrong-key 30 java -cp "$jars" org.tern.interop.LeshanDtls --port 0 --endpoint tern-zephyr \
		--identity "$psk_identity" --key "ff${psk_key:2}" --timeout 25
	wrong_pid=$started
	relay 5684 "$port" "Leshan (DTLS, another key)"
	client wrong-key-client 30
	wait "$wrong_pid" || true
	kill "$client_pid" 2>/dev/null || true
	wait "$client_pid" 2>/dev/null || true
	cat "$log/wrong-key-client" "$log/wrong-key"
	expect "another key: never registered ($(grep -m1 '^FAIL' "$log/wrong-key" || true))" \
		grep -q -x "FAIL timeout waiting for REGISTERED" "$log/wrong-key"
	expect "another key: the sample reported no registration" \
		eval '! grep -q "registered with server" "$log/wrong-key-client"'
	# CONFIG_TERN_ZEPHYR_DTLS_HANDSHAKE_TIMEOUT_MAX: the handshake inside the Register's
	# send gives up after about 15 s instead of two minutes, with ETIMEDOUT (110 in the
	# host's libc on native_sim, 116 in Zephyr's minimal libc).
	expect "another key: the handshake gave up within the run ($(grep -m1 -o 'send on socket.*' "$log/wrong-key-client" || true))" \
		grep -q -E "send on socket [0-9]+: (110|116)([^0-9]|$)" "$log/wrong-key-client"
fi
if [ "$failed" = 0 ]; then
	case "$tls" in
	0) echo "== the sample registered, was read, updated and de-registered" ;;
	1) echo "== the sample registered over DTLS (Zephyr's TLS sockets, mbedTLS) with its PSK, was read, notified and de-registered; with another key it never registered" ;;
	bootstrap) echo "== the sample was bootstrapped, registered over DTLS with the written PSK, was read, notified and de-registered" ;;
	esac
else
	echo "== the run failed"
	exit 1
fi
