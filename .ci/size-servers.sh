#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Static RAM one more LwM2M server costs (the bootstrap issue's budget): the client storage
# of the default configuration's Cortex-M4 image (.ci/size.sh) built for one server and for
# two, and their difference. Everything a server adds is in the client storage: its
# registration, Server object resources and URI, its staged Security and Server instances
# for bootstrap, its ACL entries and its connection handle. Fails above the budget.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUDGET=400
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
storage() { # servers -> tern_client_storage_size() of the default image
	local log
	log=$(mktemp)
	# A target directory of its own per count: the capacity is a build.rs input, and the
	# other checks keep their builds.
	# (size.sh's own gates are for one server: its status is not this check's.)
	TERN_MAX_SERVERS=$1 CARGO_TARGET_DIR="$TARGET_DIR/servers-$1" "$ROOT/.ci/size.sh" default >"$log" 2>&1 || true
	local bytes
	bytes=$(sed -n 's/.*tern_client_storage_size() = \([0-9]*\) .*/\1/p' "$log" | tail -n1)
	[ -n "$bytes" ] || { cat "$log" >&2; rm -f "$log"; return 1; }
	rm -f "$log"
	echo "$bytes"
}
one=$(storage 1)
two=$(storage 2)
added=$((two - one))
echo "size-servers: client storage, default features: 1 server $one B, 2 servers $two B: +$added B per extra server (budget $BUDGET)"
if [ "$added" -gt "$BUDGET" ]; then
	echo "size-servers: FAIL: one more server adds $added B of RAM, over the $BUDGET B budget" >&2
	exit 1
fi
