#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Instructions on the host, counted by callgrind: for one register / read / update /
# de-register cycle, for one Read of /3/0 in each content format, and per float written as
# text and parsed from text (sensor readings, and values at the ends of the range). The
# bench runs 1 and 101 of each and the difference is divided by 100, so process start-up
# and set-up cancel out. Then one DTLS 1.2 PSK handshake on the client side, and its bytes on the wire, and
# one with raw public keys.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench cycle --no-run --quiet 2>/dev/null || cargo bench --bench cycle --no-run
cargo bench --features dtls --bench handshake --no-run --quiet 2>/dev/null || cargo bench --features dtls --bench handshake --no-run
cargo bench --features dtls-rpk --bench handshake_rpk --no-run --quiet 2>/dev/null ||
	cargo bench --features dtls-rpk --bench handshake_rpk --no-run
bin=$(cargo bench --bench cycle --no-run --message-format=json 2>/dev/null |
	python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "cycle":
        print(m["executable"])')
count() {
	local out
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$@" >/dev/null 2>&1
	awk '/^summary:/ {print $2}' "$out"
	rm -f "$out"
}
one=$(count 1)
many=$(count 101)
per=$(( (many - one) / 100 ))
echo "callgrind: $per instructions per register/read/update/de-register cycle (1 cycle: $one, 101 cycles: $many)"
for format in 11542 110 112 11543 11544; do
	one=$(count 1 "$format")
	many=$(count 101 "$format")
	echo "callgrind: $(( (many - one) / 100 )) instructions per Read of /3/0 in content format $format"
done
for format in 11542 112; do
	one=$(count 1 notify "$format")
	many=$(count 101 notify "$format")
	echo "callgrind: $(( (many - one) / 100 )) instructions per notification of /3/0 in content format $format"
done

for kind in typical ends; do
	one=$(count 1 float "$kind")
	many=$(count 101 float "$kind")
	echo "callgrind: $(( (many - one) / 500 )) instructions per float written as text ($kind values)"
	one=$(count 1 parse "$kind")
	many=$(count 101 parse "$kind")
	echo "callgrind: $(( (many - one) / 500 )) instructions per float parsed from text ($kind values)"
done

# handshake BENCH FEATURE RUNS WHAT: instructions per handshake of a DTLS bench (it replays a
# live handshake RUNS times in process), then the bytes and round trips it printed.
handshake() {
	local one many
	bin=$(cargo bench --features "$2" --bench "$1" --no-run --message-format=json 2>/dev/null |
		python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == sys.argv[1]:
        print(m["executable"])' "$1")
	if [ -z "$bin" ]; then
		echo "callgrind: the $1 bench did not build" >&2
		exit 1
	fi
	one=$(count 1)
	many=$(count $(($3 + 1)))
	echo "callgrind: $(( (many - one) / $3 )) instructions per DTLS 1.2 $4 handshake (client side)"
	"$bin" 1 | sed 's/^/callgrind: /'
}
# The library's DTLS: a PSK handshake (replayed from a live one with OpenSSL), and one with
# raw public keys and the client's key asked for (from gnutls-serv; the dtls-rpk feature),
# where P-256 arithmetic dominates.
handshake handshake dtls 20 PSK
handshake handshake_rpk dtls-rpk 5 raw-public-key
