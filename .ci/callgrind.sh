#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Instructions for one register / read / update / de-register cycle on the host, counted
# by callgrind: the bench runs 1 and 101 cycles and the difference is divided by 100, so
# process start-up and set-up cancel out.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench cycle --no-run --quiet 2>/dev/null || cargo bench --bench cycle --no-run
bin=$(cargo bench --bench cycle --no-run --message-format=json 2>/dev/null |
	python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "cycle":
        print(m["executable"])')
count() {
	local out
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" >/dev/null 2>&1
	awk '/^summary:/ {print $2}' "$out"
	rm -f "$out"
}
one=$(count 1)
many=$(count 101)
per=$(( (many - one) / 100 ))
echo "callgrind: $per instructions per register/read/update/de-register cycle (1 cycle: $one, 101 cycles: $many)"
