#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# End to end on an emulated Cortex-M3: builds the FreeRTOS image, starts a Leshan server
# (LeshanScenario --read-observe) on a free loopback port, boots the image on QEMU
# mps2-an385 with UART0 on a Unix socket, and relays its SLIP frames to Leshan over UDP.
# Passes when the image registered, answered a Read of /3/0, notified an observation of
# its temperature, de-registered and ended with status 0, although the relay sent it
# damaged SLIP frames (slip-relay.py --corrupt) right after it registered. Every wait is bounded; every
# process started here is stopped on exit (KEEP_LOGS=1 keeps the logs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$root/tests/interop/lib.sh"

RUN_TIMEOUT=90      # seconds for the whole run
LISTEN_TIMEOUT=30   # seconds for Leshan to bind

make -C "$here" --no-print-directory -s
"$root/tests/interop/leshan/setup.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/tern-cm3.XXXXXX")
server_pid="" qemu_pid="" relay_pid=""
cleanup() {
	stop "$relay_pid"
	stop "$qemu_pid"
	stop "$server_pid"
	wait 2>/dev/null || true
	if [ -n "${KEEP_LOGS:-}" ]; then echo "# logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
SETSID=()
command -v setsid >/dev/null && SETSID=(setsid)

"${SETSID[@]}" "${JAVA:-java}" -cp "$root/tests/interop/leshan/target/tern-leshan-scenario.jar:$root/tests/interop/leshan/target/deps/*" \
	org.tern.interop.LeshanScenario --port 0 --timeout "$RUN_TIMEOUT" --read-observe \
	>"$work/server.out" 2>"$work/server.err" </dev/null &
server_pid=$!
port=$(listening_port "$server_pid" "$work/server.out" "$LISTEN_TIMEOUT")
[ -n "$port" ] || { echo "not ok - Leshan listening"; cat "$work/server.out" "$work/server.err"; exit 1; }
echo "# Leshan on coap://127.0.0.1:$port"

# QEMU waits (wait=on) until the relay connects, so no frame is lost at boot.
"${SETSID[@]}" qemu-system-arm -M mps2-an385 -display none -monitor none \
	-semihosting-config enable=on,target=native \
	-chardev "socket,id=uart0,path=$work/uart0.sock,server=on,wait=on" -serial chardev:uart0 \
	-kernel "$here/build/tern-freertos-cm3.elf" >"$work/image.out" 2>"$work/image.err" </dev/null &
qemu_pid=$!
"${SETSID[@]}" python3 "$here/slip-relay.py" --socket "$work/uart0.sock" --server "127.0.0.1:$port" \
	--timeout "$RUN_TIMEOUT" --corrupt >"$work/relay.out" 2>"$work/relay.err" </dev/null &
relay_pid=$!

deadline=$((SECONDS + RUN_TIMEOUT))
image_rc="" server_rc=""
while [ $SECONDS -lt $deadline ]; do
	if [ -z "$image_rc" ] && ! kill -0 "$qemu_pid" 2>/dev/null; then
		image_rc=0; wait "$qemu_pid" || image_rc=$?
	fi
	if [ -z "$server_rc" ] && ! kill -0 "$server_pid" 2>/dev/null; then
		server_rc=0; wait "$server_pid" || server_rc=$?
	fi
	[ -n "$image_rc" ] && [ -n "$server_rc" ] && break
	sleep 0.2
done
[ -n "$image_rc" ] || { image_rc=timeout; stop "$qemu_pid"; }
[ -n "$server_rc" ] || { server_rc=timeout; stop "$server_pid"; }
stop "$relay_pid"

FAILED=0
line() { grep -m1 -E "^$1" "$work/server.out" || true; }
check "image ended with status 0 (got $image_rc)" test "$image_rc" = 0
check "Leshan scenario exited 0 (got $server_rc)" test "$server_rc" = 0
check "registered ($(line "REGISTERED "))" eval '[[ $(line "REGISTERED ") == "REGISTERED ep=tern-freertos-cm3 lt=60 b=U "* ]]'
check "Read /3/0 answered ($(line "READ /3/0 "))" \
	test "$(line "READ /3/0 ")" = "READ /3/0 205 manufacturer=tern model=tern-freertos-cm3"
check "Observe /3303/0/5700 established ($(line "OBSERVE "))" eval '[[ $(line "OBSERVE ") =~ ^"OBSERVE /3303/0/5700 205 "[0-9.]+$ ]]'
check "a notification of the temperature arrived ($(line "NOTIFY "))" eval '[[ $(line "NOTIFY ") =~ ^"NOTIFY /3303/0/5700 "[0-9.]+$ ]]'
check "de-registered" test -n "$(line "DEREGISTERED")"
check "the image reported a clean end" grep -q "^tern: done (clean)" "$work/image.out"
check "damaged SLIP frames reached the image first ($(grep -m1 damaged "$work/relay.err" || true))" \
	grep -q "^slip-relay: sent 5 damaged frames" "$work/relay.err"
echo "# $(tail -n1 "$work/relay.err")"
if [ "$FAILED" -ne 0 ]; then
	for f in "$work"/*.out "$work"/*.err; do echo "--- $(basename "$f")"; cat "$f"; done
fi
exit "$FAILED"
