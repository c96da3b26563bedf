#!/usr/bin/env bash
# Interop test: the client under test bootstraps from an Eclipse Leshan bootstrap server,
# then registers with the Eclipse Leshan LwM2M server the bootstrap server named.
#
#   run.sh CLIENT_BIN [ARGS...]       or       run.sh "CLIENT_BIN ARGS..."
#
# The client is started as
#   CLIENT_BIN [ARGS...] -b coap://127.0.0.1:BS_PORT -e tern-leshan-bs-<pid> -x 10
# and has no server of its own: everything it knows of the LwM2M server (URI, short server
# ID 7, lifetime 45 s) comes from the bootstrap server. With LESHAN_BS_MODE=fallback it also
# gets a factory server (-u), a Leshan server that declines every Register: the client must
# fall back to the bootstrap server and end up registered the same way. With
# LESHAN_BS_MODE=rebootstrap the client starts registered with the Leshan server itself
# (Short Server ID 1), which executes the Bootstrap-Request Trigger (/1/0/9); the bootstrap
# server replaces that account with Short Server ID 7: the client must de-register first,
# then register with the new account. Everything runs on 127.0.0.1 with
# ports the system picks; every wait is bounded and every process started here is stopped on
# exit. Exit status 0 only if every check passed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

if [ $# -lt 1 ] || [ -z "$1" ]; then
    echo "usage: $0 CLIENT_BIN [ARGS...]" >&2
    exit 2
fi
if [ $# -eq 1 ]; then
    read -r -a CLIENT_CMD <<<"$1"
else
    CLIENT_CMD=("$@")
fi

MODE=${LESHAN_BS_MODE:-bootstrap}
case "$MODE" in bootstrap|fallback|rebootstrap) ;; *) echo "LESHAN_BS_MODE: bootstrap, fallback or rebootstrap" >&2; exit 2;; esac
EP="tern-leshan-bs-$$"
SSID=7
LIFETIME=45
EXIT_AFTER=10
SCENARIO_TIMEOUT=60   # seconds, inside the Java programs
OVERALL_TIMEOUT=90    # seconds, for every process together
LISTEN_TIMEOUT=30     # seconds for a server to bind

"$HERE/setup.sh"
"$HERE/../leshan/setup.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tern-leshan-bs.XXXXXX")
SERVER_PID="" BS_PID="" CLIENT_PID="" REFUSER_PID=""
cleanup() {
    stop "$CLIENT_PID"
    stop "$BS_PID"
    stop "$SERVER_PID"
    stop "$REFUSER_PID"
    wait 2>/dev/null || true
    if [ -n "${KEEP_LOGS:-}" ]; then echo "# logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SETSID=()
command -v setsid >/dev/null && SETSID=(setsid)
JAVA=${JAVA:-java}
fail_to_listen() { # name, stdout, stderr
    echo "not ok - $1 listening (no LISTENING line within ${LISTEN_TIMEOUT}s)"
    echo "--- $1 stdout"; cat "$2"
    echo "--- $1 stderr"; cat "$3"
    exit 1
}

leshan() { # scenario option, output name: starts a Leshan 2.x server in the background
    "${SETSID[@]}" "$JAVA" -cp "$HERE/../leshan/target/tern-leshan-scenario.jar:$HERE/../leshan/target/deps/*" \
        org.tern.interop.LeshanScenario --port 0 --endpoint "$EP" --timeout "$SCENARIO_TIMEOUT" "$1" \
        >"$WORK/$2.out" 2>"$WORK/$2.err" </dev/null &
}
CLIENT_ARGS=()
if [ "$MODE" = fallback ]; then
    leshan --refuse refuser
    REFUSER_PID=$!
    REFUSER_PORT=$(listening_port "$REFUSER_PID" "$WORK/refuser.out" "$LISTEN_TIMEOUT")
    [ -n "$REFUSER_PORT" ] || fail_to_listen "refusing Leshan server" "$WORK/refuser.out" "$WORK/refuser.err"
    CLIENT_ARGS=(-u "coap://127.0.0.1:$REFUSER_PORT")
fi

# The LwM2M server (Leshan 2.x): the bootstrap configuration needs its URI.
leshan "$([ "$MODE" = rebootstrap ] && echo --rebootstrap || echo --bootstrapped)" server
SERVER_PID=$!
PORT=$(listening_port "$SERVER_PID" "$WORK/server.out" "$LISTEN_TIMEOUT")
[ -n "$PORT" ] || fail_to_listen "Leshan server" "$WORK/server.out" "$WORK/server.err"
[ "$MODE" = rebootstrap ] && CLIENT_ARGS=(-u "coap://127.0.0.1:$PORT")

"${SETSID[@]}" "$JAVA" -cp "$HERE/target/tern-leshan-bootstrap.jar:$HERE/target/deps/*" \
    org.tern.interop.LeshanBootstrap --port 0 --endpoint "$EP" --server-uri "coap://127.0.0.1:$PORT" \
    --ssid "$SSID" --lifetime "$LIFETIME" --timeout "$SCENARIO_TIMEOUT" \
    >"$WORK/bs.out" 2>"$WORK/bs.err" </dev/null &
BS_PID=$!
BS_PORT=$(listening_port "$BS_PID" "$WORK/bs.out" "$LISTEN_TIMEOUT")
[ -n "$BS_PORT" ] || fail_to_listen "Leshan bootstrap server" "$WORK/bs.out" "$WORK/bs.err"
echo "# Leshan bootstrap server on coap://127.0.0.1:$BS_PORT, LwM2M server on coap://127.0.0.1:$PORT, endpoint $EP"

"${SETSID[@]}" "${CLIENT_CMD[@]}" -b "coap://127.0.0.1:$BS_PORT" -e "$EP" -x "$EXIT_AFTER" "${CLIENT_ARGS[@]}" \
    >"$WORK/client.out" 2>"$WORK/client.err" </dev/null &
CLIENT_PID=$!

# Wait for all three, bounded.
deadline=$((SECONDS + OVERALL_TIMEOUT))
SERVER_RC="" BS_RC="" CLIENT_RC=""
reap() { # pid, name of the variable that takes its exit status
    if [ -z "${!2}" ] && ! kill -0 "$1" 2>/dev/null; then
        local rc=0
        wait "$1" || rc=$?
        printf -v "$2" '%s' "$rc"
    fi
}
while [ $SECONDS -lt $deadline ]; do
    reap "$SERVER_PID" SERVER_RC
    reap "$BS_PID" BS_RC
    reap "$CLIENT_PID" CLIENT_RC
    [ -n "$SERVER_RC" ] && [ -n "$BS_RC" ] && [ -n "$CLIENT_RC" ] && break
    sleep 0.2
done
[ -n "$SERVER_RC" ] || { SERVER_RC=timeout; stop "$SERVER_PID"; }
[ -n "$BS_RC" ] || { BS_RC=timeout; stop "$BS_PID"; }
[ -n "$CLIENT_RC" ] || { CLIENT_RC=timeout; stop "$CLIENT_PID"; }

FAILED=0
bs() { grep -m1 -E "^$1" "$WORK/bs.out" || true; }
srv() { grep -m1 -E "^$1" "$WORK/server.out" || true; }
REG=$(srv "REGISTERED ")

if [ "$MODE" = fallback ]; then
    stop "$REFUSER_PID"
    check "the factory server declined the Register ($(grep -m1 "^REFUSED " "$WORK/refuser.out"))" \
        grep -q -x "REFUSED ep=$EP" "$WORK/refuser.out"
    check "the client saw the refusal before it bootstrapped" \
        eval 'sed -n "1,/^tern: bootstrapped$/p" "$WORK/client.out" | grep -q "^tern: registration rejected by server 0"'
fi
check "bootstrap server exited 0 (got $BS_RC)" test "$BS_RC" = 0
check "LwM2M server scenario exited 0 (got $SERVER_RC)" test "$SERVER_RC" = 0
check "client exited 0 (got $CLIENT_RC)" test "$CLIENT_RC" = 0
check "Bootstrap-Request from $EP" test "$(bs "BOOTSTRAP_REQUEST ")" = "BOOTSTRAP_REQUEST ep=$EP"
check "Bootstrap-Delete / accepted" test -n "$(bs "OK BootstrapDelete /$")"
check "Bootstrap-Write of the bootstrap account /0/0 accepted" test -n "$(bs "OK BootstrapWrite /0/0$")"
check "Bootstrap-Write of the server's account /0/1 accepted" test -n "$(bs "OK BootstrapWrite /0/1$")"
check "Bootstrap-Write of the Server instance /1/0 accepted" test -n "$(bs "OK BootstrapWrite /1/0$")"
check "no bootstrap request refused ($(bs "ERROR "))" test -z "$(bs "ERROR ")"
check "Bootstrap-Finish accepted" test "$(bs "BOOTSTRAPPED ")" = "BOOTSTRAPPED ep=$EP"
check "the client reported the bootstrap" grep -q "^tern: bootstrapped$" "$WORK/client.out"
if [ "$MODE" = rebootstrap ]; then
    check "registered with the configured account first ($REG)" \
        eval '[[ $REG == "REGISTERED ep=$EP lt=300" ]]'
    check "the Bootstrap-Request Trigger executed ($(srv "EXECUTE "))" test "$(srv "EXECUTE ")" = "EXECUTE /1/0/9 204"
    check "the dropped account de-registered, not replaced by a new Register ($(srv "LEFT "))" \
        test "$(srv "LEFT ")" = "LEFT DEREGISTERED"
    check "then registered with the bootstrapped account ($(srv "REGISTERED_AGAIN "))" \
        test "$(srv "REGISTERED_AGAIN ")" = "REGISTERED_AGAIN lt=$LIFETIME"
    check "the client logged the De-register before the bootstrap" \
        eval 'sed -n "1,/^tern: bootstrapped$/p" "$WORK/client.out" | grep -q "^tern: deregistered from server 0"'
else
    check "registered with the bootstrapped server ($REG)" \
        eval '[[ $REG == "REGISTERED ep=$EP lt=$LIFETIME b=U lwm2m="* ]]'
fi
check "Read /1 shows the one Server instance written ($(srv "READ /1 "))" \
    test "$(srv "READ /1 ")" = "READ /1 205 0:ssid=$SSID/lt=$LIFETIME,"
[ "$MODE" = rebootstrap ] ||
    check "Read /0 refused to the LwM2M server ($(srv "READ /0 "))" test "$(srv "READ /0 ")" = "READ /0 401"
check "de-registered at the end" test -n "$(srv "DEREGISTERED")"

if [ "$FAILED" -ne 0 ]; then
    for f in "$WORK"/*.out; do echo "--- $(basename "$f")"; cat "$f"; done
fi
exit "$FAILED"
