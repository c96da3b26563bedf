#!/usr/bin/env bash
# Interop test: the client under test registers with libcoap's CoAP server over DTLS 1.2 with
# a pre-shared key, through the library's own DTLS, once against each of libcoap's DTLS
# back ends (OpenSSL and GnuTLS, Debian's libcoap3-bin): handshake, Register (2.01 from the
# server's dynamic resources), De-register; then a client with a wrong key must not
# register. The client's CoAP is checked in the server's own log. With a second client,
# built with the platform doing the DTLS (ffi-examples/posix PLATFORM_DTLS=openssl, the
# library without its dtls feature), the same runs check that mode: the library sends
# plain CoAP on a connection the platform secured.
#
#   run.sh CLIENT_BIN [PLATFORM_DTLS_CLIENT_BIN]   (see ../../run.sh)
#
# Everything runs on 127.0.0.1; the server's ports are picked free (libcoap listens for
# DTLS on its port + 1); every wait is bounded and every process started here is stopped.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
    echo "usage: $0 CLIENT_BIN [PLATFORM_DTLS_CLIENT_BIN]" >&2
    exit 2
fi
CLIENTS=("library:$1")
[ -n "${2:-}" ] && CLIENTS+=("platform:$2")
KEY_TEXT="tern-libcoap-key"
KEY=$(printf '%s' "$KEY_TEXT" | od -An -tx1 | tr -d ' \n')
WRONG_KEY=$(printf '%s' "not-the-right-key" | od -An -tx1 | tr -d ' \n')
EP="tern-libcoap-$$"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tern-libcoap.XXXXXX")
SERVER_PID="" CLIENT_PID=""
cleanup() {
    stop "$CLIENT_PID"
    stop "$SERVER_PID"
    wait 2>/dev/null || true
    if [ -n "${KEEP_LOGS:-}" ]; then echo "# logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
SETSID=()
command -v setsid >/dev/null && SETSID=(setsid)

# A UDP port P on 127.0.0.1 with P + 1 free too.
free_port_pair() {
    python3 - <<'PY'
import socket
for _ in range(50):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    finally:
        a.close()
        b.close()
    print(p)
    break
PY
}

# run BACKEND NAME KEY CLIENT: one libcoap server with the right key, one CLIENT with KEY
# that runs for 6 seconds; sets CLIENT_RC.
run() {
    local backend=$1 name=$2 key=$3 client=$4 port
    port=$(free_port_pair)
    [ -n "$port" ] || { echo "not ok - no free port pair"; exit 1; }
    "${SETSID[@]}" "coap-server-$backend" -A 127.0.0.1 -p "$port" -k "$KEY_TEXT" -d 4 -v 7 \
        >"$WORK/$name-server.log" 2>&1 </dev/null &
    SERVER_PID=$!
    local n=0
    until grep -q "127.0.0.1:$((port + 1))" "$WORK/$name-server.log" 2>/dev/null || [ $n -ge 50 ]; do
        sleep 0.1; n=$((n + 1))
    done
    echo "# $name: coap-server-$backend on coaps://127.0.0.1:$((port + 1))"
    CLIENT_RC=0
    timeout 20 "${SETSID[@]}" "$client" -u "coaps://127.0.0.1:$((port + 1))" -e "$EP" -i tern -k "$key" \
        -l 60 -x 6 >"$WORK/$name-client.out" 2>&1 </dev/null || CLIENT_RC=$?
    stop "$SERVER_PID"
    SERVER_PID=""
}

FAILED=0
for entry in "${CLIENTS[@]}"; do
    dtls=${entry%%:*} client=${entry#*:}
    for backend in openssl gnutls; do
        if ! command -v "coap-server-$backend" >/dev/null; then
            echo "not ok - coap-server-$backend is missing (apt-get install libcoap3-bin)"
            FAILED=1
            continue
        fi
        name="$dtls-$backend" what="$backend, the $dtls's DTLS"
        run "$backend" "$name" "$KEY" "$client"
        log="$WORK/$name-server.log"
        check "$what: client exited 0 (got $CLIENT_RC)" test "$CLIENT_RC" = 0
        check "$what: the client registered" grep -q "^tern: registered with server 0" "$WORK/$name-client.out"
        check "$what: the server took a Register over DTLS" \
            grep -q "c:POST .*Uri-Path:rd, .*Uri-Query:ep=$EP" "$log"
        check "$what: and answered 2.01 with a Location" grep -q "c:2.01 .*Location-Path:rd" "$log"
        check "$what: the client de-registered" grep -q "^tern: deregistered from server 0" "$WORK/$name-client.out"
        check "$what: the server took the De-register" grep -q "c:DELETE .*Uri-Path:rd" "$log"
        check "$what: every record came over DTLS" eval '! grep -q "UDP *: received" "$log"'
        # The session ends with a close_notify after the De-register (only the OpenSSL back
        # end logs the alerts it reads).
        if [ "$backend" = openssl ]; then
            check "$what: the session ended with a close_notify" \
                grep -q "alert read:warning:close notify" "$log"
        fi

        run "$backend" "$name-wrong" "$WRONG_KEY" "$client"
        check "$what: a wrong key never registers" \
            eval '! grep -q "registered with server" "$WORK/$name-wrong-client.out"'
        check "$what: the server saw no request from it" eval '! grep -q "c:POST" "$WORK/$name-wrong-server.log"'
    done
done

if [ "$FAILED" -ne 0 ]; then
    for f in "$WORK"/*; do echo "--- $(basename "$f")"; tail -n 40 "$f"; done
fi
exit "$FAILED"
