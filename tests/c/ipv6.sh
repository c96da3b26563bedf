#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# The POSIX example over IPv6: the demo scenario with the test server bound to [::1].
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
client=${1:-$root/ffi-examples/posix/build/tern-client}
log=$(mktemp)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -f "$log"' EXIT
(cd "$root" && cargo build --release --quiet -p tern-test-server)
"$target/release/tern-test-server" --ipv6 --scenario demo --timeout 40 >"$log" 2>&1 &
pid=$!
port=
for _ in $(seq 100); do
	port=$(awk '/^LISTENING/ {print $2; exit}' "$log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "the test server did not start on [::1]"; cat "$log"; exit 1; }
status=0
timeout 60 "$client" -u "coap://[::1]:$port" -e tern-ipv6 -l 60 -U 2 -x 6 || status=$?
server_status=0
wait "$pid" || server_status=$?
pid=
cat "$log"
[ "$status" -eq 0 ] && [ "$server_status" -eq 0 ] && grep -q "deregistered ep=tern-ipv6" "$log"
