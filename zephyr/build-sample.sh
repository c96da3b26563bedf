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

# Modules: west's list plus this repository, or (no west workspace) the list given.
module_args=()
if (cd "$ZEPHYR_BASE" && west topdir >/dev/null 2>&1); then
	module_args+=("-DEXTRA_ZEPHYR_MODULES=$root")
else
	module_args+=("-DZEPHYR_MODULES=$root${TERN_ZEPHYR_MODULES:+;$TERN_ZEPHYR_MODULES}")
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

# The run: namespace, TAP "zeth" at 192.0.2.2/24 (the sample is 192.0.2.1), the test
# server on the namespace's loopback and a UDP relay from 192.0.2.2:5683 to it.
echo "== building the test server"
(cd "$root" && cargo build --release --quiet -p tern-test-server)
server_bin=${CARGO_TARGET_DIR:-$root/target}/release/tern-test-server
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

ip netns exec "$ns" "$server_bin" --scenario demo --endpoint tern-zephyr --timeout 60 >"$log/server" 2>&1 &
server_pid=$!
pids+=("$server_pid")
port=
for _ in $(seq 100); do
	port=$(awk '/^LISTENING/ {print $2; exit}' "$log/server")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "the test server did not start"; cat "$log/server"; exit 1; }
ip netns exec "$ns" python3 "$here/tests/udp-relay.py" 192.0.2.2 5683 "$port" >"$log/relay" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q RELAYING "$log/relay" && break; sleep 0.1; done
echo "== test server on 127.0.0.1:$port in namespace $ns, relayed from 192.0.2.2:5683"

if [ "$runner" = native ]; then
	ip netns exec "$ns" "$build/zephyr/zephyr.exe" --stop_at=40 >"$log/client" 2>&1 &
else
	# QEMU's Ethernet controller (Stellaris, LAN9118) on the same TAP interface.
	ip netns exec "$ns" timeout 60 qemu-system-arm -cpu cortex-m3 -machine "$qemu_machine" -nographic \
		-monitor none -kernel "$build/zephyr/zephyr.elf" \
		-nic "tap,model=$qemu_nic,ifname=zeth,script=no,downscript=no" </dev/null >"$log/client" 2>&1 &
fi
client_pid=$!
pids+=("$client_pid")
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
if [ "$server_status" -eq 0 ] && grep -q "stopped: de-registered" "$log/client"; then
	echo "== the sample registered, was read, updated and de-registered"
else
	echo "== the demo failed (server exit status $server_status, or no de-registration on the sample's side)"
	exit 1
fi
