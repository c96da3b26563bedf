#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# The demo: builds the library, the C example and the bundled test server, starts the
# server on a free loopback port, and runs the client against it. The server registers
# the client, reads the Device object, writes the lifetime, triggers an Update and waits
# for the de-registration; both sides print what happens. TERN_DEMO_IPV6=1 runs it over
# IPv6 ([::1]); TERN_DEMO_CLIENT=path runs another build of the example client (the
# FreeRTOS one, ../freertos/build/tern-freertos, say) instead of this directory's;
# TERN_DEMO_WRAP="valgrind -q --error-exitcode=9", say, runs the client under that command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

echo "== building libtern.a, the C client and the test server"
(cd "$root" && cargo rustc --release --quiet --lib --crate-type staticlib && cargo build --release --quiet -p tern-test-server)
make -C "$here" --no-print-directory -s

log=$(mktemp)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	rm -f "$log"
}
trap cleanup EXIT

server_args=(--scenario demo --timeout 60)
host=127.0.0.1
if [ "${TERN_DEMO_IPV6:-0}" = 1 ]; then
	server_args+=(--ipv6)
	host="[::1]"
fi
"$target/release/tern-test-server" "${server_args[@]}" >"$log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 100); do
	port=$(awk '/^LISTENING/ {print $2; exit}' "$log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "the test server did not start"; cat "$log"; exit 1; }
echo "== test server on coap://$host:$port; starting the client"

tail -n +2 -f "$log" --pid "$server_pid" &
tail_pid=$!
client_status=0
# shellcheck disable=SC2086 # the wrapper is a command and its arguments
${TERN_DEMO_WRAP:-} "${TERN_DEMO_CLIENT:-$here/build/tern-client}" -u "coap://$host:$port" -e tern-demo -l 60 -U 3 -x 8 || client_status=$?
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
sleep 0.2
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true

if [ "$client_status" -eq 0 ] && [ "$server_status" -eq 0 ]; then
	echo "== demo finished: registered, read, updated and de-registered"
else
	echo "== demo failed (client $client_status, server $server_status)"
	exit 1
fi
