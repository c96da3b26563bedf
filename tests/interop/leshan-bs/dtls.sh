#!/usr/bin/env bash
# Interop test: the client under test registers with an Eclipse Leshan server over DTLS 1.2
# with a pre-shared key (TLS_PSK_WITH_AES_128_CCM_8; Leshan 1.5 and Californium's
# Scandium), through the library's own DTLS, reads, observes the temperature and gets a
# notification; a client the server disables (/1/0/4) de-registers and comes back on a new
# connection after a new handshake; a client with a wrong key, then one with a wrong
# identity, must not get in;
# then a client with no key at all gets its account, coaps:// URI and key from Leshan's
# bootstrap server (Security mode 0) and registers over DTLS with them; then the same with
# the bootstrap server itself reached over DTLS with a key of its own (the client needs
# TERN_MAX_DTLS_SESSIONS=2 for that one: a session for each server).
# With LESHAN_DTLS_RPK=1, then the same registration with raw public keys (RFC 7250,
# TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8; P-256 keys made here with openssl), and a client that
# expects another server key must refuse the server; then the keys from the bootstrap server
# (Security mode 1), first over plain CoAP, then with the bootstrap server itself reached
# over DTLS with raw public keys of its own (two sessions again).
# With LESHAN_DTLS_PLATFORM=1, the client under test is one whose platform does the DTLS
# (OpenSSL or mbedTLS, the platform-credentials feature): the same PSK cases, and the key that the
# bootstrap server writes must reach the platform through the credentials callback.
#
#   dtls.sh CLIENT_BIN        (a client built with the dtls feature, dtls-rpk for
#                              LESHAN_DTLS_RPK=1, or PLATFORM_DTLS=openssl or mbedtls
#                              for LESHAN_DTLS_PLATFORM=1: see ../../run.sh)
#
# The client is started as
#   CLIENT_BIN -u coaps://127.0.0.1:PORT -e EP -i IDENTITY -k HEXKEY -l 60 -x 8
#   CLIENT_BIN -u coaps://127.0.0.1:PORT -e EP -K CLIENT_KEY.p8 -P SERVER_PUBLIC.der -l 60 -x 8
#   CLIENT_BIN -b coap(s)://127.0.0.1:BS_PORT -e EP [-i BS_ID -k BS_KEY | -K .. -P BS_PUBLIC.der] ...
# Everything runs on 127.0.0.1 with ports the system picks; every wait is bounded and every
# process started here is stopped on exit. Exit status 0 only if every check passed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 CLIENT_BIN" >&2
    exit 2
fi
CLIENT=$1
EP="tern-dtls-$$"
IDENTITY="tern-psk-$$"
KEY=000102030405060708090a0b0c0d0e0f
WRONG_KEY=ff0102030405060708090a0b0c0d0e0f
BS_IDENTITY="tern-bs-psk-$$"
BS_KEY=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
LISTEN_TIMEOUT=30

"$HERE/setup.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tern-dtls.XXXXXX")
SERVER_PID="" CLIENT_PID="" BS_PID=""
cleanup() {
    stop "$CLIENT_PID"
    stop "$BS_PID"
    stop "$SERVER_PID"
    wait 2>/dev/null || true
    if [ -n "${KEEP_LOGS:-}" ]; then echo "# logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
SETSID=()
command -v setsid >/dev/null && SETSID=(setsid)

JARS="$HERE/target/tern-leshan-bootstrap.jar:$HERE/target/deps/*"

# run NAME KEY SERVER_TIMEOUT [CLIENT_IDENTITY]: one Leshan server and one client with KEY
# (with "bootstrap", a client that gets the server and KEY from Leshan's bootstrap server);
# sets SERVER_RC, CLIENT_RC. SERVER_SECURITY and CLIENT_SECURITY (arrays), when set, replace
# the server's and the client's PSK options (raw public keys); SERVER_EXTRA (an array) adds
# options to the server's, CLIENT_EXIT sets the client's run time (default 8 s).
run() {
    local name=$1 key=$2 timeout=$3 client_identity=${4:-$IDENTITY}
    local server_security=(--identity "$IDENTITY" --key "$KEY")
    [ -z "${SERVER_SECURITY+x}" ] || server_security=("${SERVER_SECURITY[@]}")
    "${SETSID[@]}" "${JAVA:-java}" -cp "$JARS" \
        org.tern.interop.LeshanDtls --port 0 --endpoint "$EP" "${server_security[@]}" \
        --timeout "$timeout" ${SERVER_EXTRA+"${SERVER_EXTRA[@]}"} \
        >"$WORK/$name-server.out" 2>"$WORK/$name-server.err" </dev/null &
    SERVER_PID=$!
    local port
    port=$(listening_port "$SERVER_PID" "$WORK/$name-server.out" "$LISTEN_TIMEOUT")
    [ -n "$port" ] || { echo "not ok - Leshan (DTLS) listening"; cat "$WORK/$name-server.out" "$WORK/$name-server.err"; exit 1; }
    echo "# $name: Leshan on coaps://127.0.0.1:$port"
    local account=(-u "coaps://127.0.0.1:$port" -i "$client_identity" -k "$key")
    [ -z "${CLIENT_SECURITY+x}" ] || account=(-u "coaps://127.0.0.1:$port" "${CLIENT_SECURITY[@]}")
    if [[ $name == bootstrap || $name == *secure-bootstrap || $name == rpk-bootstrap ]]; then
        local dm_security=(--psk-identity "$IDENTITY" --psk-key "$key")
        [ -z "${BS_DM_SECURITY+x}" ] || dm_security=("${BS_DM_SECURITY[@]}")
        local scheme=coap secure=()
        if [ "$name" = secure-bootstrap ]; then
            scheme=coaps secure=(--secure-identity "$BS_IDENTITY" --secure-key "$BS_KEY")
        elif [ "$name" = rpk-secure-bootstrap ]; then
            scheme=coaps secure=(--secure-rpk-private "$WORK/bs.p8" --secure-rpk-public "$WORK/bs.pub.der")
        fi
        "${SETSID[@]}" "${JAVA:-java}" -cp "$JARS" org.tern.interop.LeshanBootstrap --port 0 \
            --endpoint "$EP" --server-uri "coaps://127.0.0.1:$port" --lifetime 60 --timeout "$timeout" \
            "${dm_security[@]}" "${secure[@]}" \
            >"$WORK/$name-bs.out" 2>"$WORK/$name-bs.err" </dev/null &
        BS_PID=$!
        local bs_port
        bs_port=$(listening_port "$BS_PID" "$WORK/$name-bs.out" "$LISTEN_TIMEOUT")
        [ -n "$bs_port" ] || { echo "not ok - Leshan bootstrap server listening"; cat "$WORK/$name-bs.out" "$WORK/$name-bs.err"; exit 1; }
        echo "# $name: Leshan bootstrap server on $scheme://127.0.0.1:$bs_port"
        account=(-b "$scheme://127.0.0.1:$bs_port")
        [ "$name" = secure-bootstrap ] && account+=(-i "$BS_IDENTITY" -k "$BS_KEY")
        [ "$name" = rpk-secure-bootstrap ] && account+=(-K "$WORK/client.p8" -P "$WORK/bs.pub.der")
    fi
    "${SETSID[@]}" "$CLIENT" "${account[@]}" -e "$EP" -l 60 -x "${CLIENT_EXIT:-8}" \
        >"$WORK/$name-client.out" 2>"$WORK/$name-client.err" </dev/null &
    CLIENT_PID=$!
    local deadline=$((SECONDS + timeout + 15))
    SERVER_RC="" CLIENT_RC=""
    while [ $SECONDS -lt $deadline ]; do
        if [ -z "$SERVER_RC" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
            SERVER_RC=0; wait "$SERVER_PID" || SERVER_RC=$?
        fi
        if [ -z "$CLIENT_RC" ] && ! kill -0 "$CLIENT_PID" 2>/dev/null; then
            CLIENT_RC=0; wait "$CLIENT_PID" || CLIENT_RC=$?
        fi
        [ -n "$SERVER_RC" ] && [ -n "$CLIENT_RC" ] && break
        sleep 0.2
    done
    [ -n "$SERVER_RC" ] || { SERVER_RC=timeout; stop "$SERVER_PID"; }
    [ -n "$CLIENT_RC" ] || { CLIENT_RC=timeout; stop "$CLIENT_PID"; }
}

FAILED=0
line() { grep -m1 -E "^$2" "$WORK/$1-server.out" || true; }

run psk "$KEY" 40
check "Leshan scenario exited 0 (got $SERVER_RC)" test "$SERVER_RC" = 0
check "client exited 0 (got $CLIENT_RC)" test "$CLIENT_RC" = 0
check "registered over DTLS with the PSK identity ($(line psk "REGISTERED "))" \
    eval '[[ $(line psk "REGISTERED ") == "REGISTERED ep=$EP lt=60 lwm2m="*" secure=true identity=$IDENTITY" ]]'
check "Read /3/0/0 over DTLS ($(line psk "READ /3/0/0 "))" test "$(line psk "READ /3/0/0 ")" = "READ /3/0/0 205 tern"
check "Read /3/0 in TLV over DTLS ($(line psk "READ /3/0 "))" eval '[[ $(line psk "READ /3/0 ") =~ ^"READ /3/0 205 "[1-9][0-9]*$ ]]'
check "observed over DTLS ($(line psk "OBSERVE "))" test "$(line psk "OBSERVE ")" = "OBSERVE /3303/0/5700 205"
check "a notification over DTLS ($(line psk "NOTIFY "))" eval '[[ $(line psk "NOTIFY ") =~ ^"NOTIFY /3303/0/5700 "[0-9.]+$ ]]'
check "de-registered over DTLS" test -n "$(line psk "DEREGISTERED")"

# Disable (/1/0/4) releases the connection: the session ends with a close_notify, and after
# the Disable Timeout the client registers again on a new connection (a new source port),
# through a new handshake: the old session's records would reach the server from an
# address it does not know.
SERVER_EXTRA=(--disable 2) CLIENT_EXIT=16
run disable "$KEY" 40
unset SERVER_EXTRA CLIENT_EXIT
check "disable: Leshan scenario exited 0 (got $SERVER_RC)" test "$SERVER_RC" = 0
# The Execute's 2.04 and the De-register leave the client back to back; Leshan may handle the
# De-register first and cancel the Execute, whose effect the next two checks then prove.
check "disable: Write /1/0/5 and Execute /1/0/4 over DTLS ($(line disable "DISABLE "))" \
    grep -qxE "DISABLE 204 (204|cancelled-by-deregister)" <<<"$(line disable "DISABLE ")"
check "disable: the client de-registered" test -n "$(line disable "DISABLED")"
check "disable: then registered again over DTLS ($(line disable "REGISTERED AGAIN"))" \
    test "$(line disable "REGISTERED AGAIN")" = "REGISTERED AGAIN secure=true identity=$IDENTITY"
check "disable: and de-registered at its end" test -n "$(line disable "DEREGISTERED")"

run wrong-key "$WRONG_KEY" 10
check "a wrong key never registers ($(line wrong-key "FAIL "))" \
    test "$(line wrong-key "FAIL ")" = "FAIL timeout waiting for REGISTERED"
check "the client with the wrong key reported no registration" \
    eval '! grep -q "registered with server" "$WORK/wrong-key-client.out"'

run wrong-identity "$KEY" 10 "not-$IDENTITY"
check "a wrong identity never registers ($(line wrong-identity "FAIL "))" \
    test "$(line wrong-identity "FAIL ")" = "FAIL timeout waiting for REGISTERED"
check "the client with the wrong identity reported no registration" \
    eval '! grep -q "registered with server" "$WORK/wrong-identity-client.out"'

run bootstrap "$KEY" 40
stop "$BS_PID"
check "bootstrapped in PSK mode ($(grep -m1 "^BOOTSTRAPPED" "$WORK/bootstrap-bs.out" || true))" \
    grep -q -x "BOOTSTRAPPED ep=$EP" "$WORK/bootstrap-bs.out"
check "Leshan scenario exited 0 after the bootstrap (got $SERVER_RC)" test "$SERVER_RC" = 0
check "client exited 0 after the bootstrap (got $CLIENT_RC)" test "$CLIENT_RC" = 0
check "registered over DTLS with the bootstrap-written identity ($(line bootstrap "REGISTERED "))" \
    eval '[[ $(line bootstrap "REGISTERED ") == "REGISTERED ep=$EP lt=60 lwm2m="*" secure=true identity=$IDENTITY" ]]'
check "Read /3/0/0 over DTLS after the bootstrap" test "$(line bootstrap "READ /3/0/0 ")" = "READ /3/0/0 205 tern"
check "a notification over DTLS after the bootstrap" test -n "$(line bootstrap "NOTIFY ")"
if [ -n "${LESHAN_DTLS_PLATFORM:-}" ]; then
    check "the platform got no key from the library for a server configured with its own" \
        eval '! grep -q "^platform dtls: keys" "$WORK/psk-client.out"'
    check "the platform got the bootstrap-written key through the credentials callback ($(grep -m1 "^platform dtls: keys" "$WORK/bootstrap-client.out" || true))" \
        grep -q -E "^platform dtls: keys for security instance [0-9]+ \(identity $IDENTITY\)$" "$WORK/bootstrap-client.out"
fi

# check_secure_bootstrap NAME BS_IDENTITY DM_IDENTITY LABEL: the checks of case NAME, a
# bootstrap server reached over DTLS (it saw BS_IDENTITY), then the LwM2M server over DTLS
# with the written keys (it saw DM_IDENTITY); each check's name starts with LABEL.
check_secure_bootstrap() {
    local name=$1 bs_identity=$2 dm_identity=$3 label=$4
    stop "$BS_PID"
    check "${label}bootstrapped over DTLS ($(grep -m1 "^SECURE" "$WORK/$name-bs.out" || true))" \
        grep -q -x "SECURE identity=$bs_identity" "$WORK/$name-bs.out"
    check "${label}Bootstrap-Finish over DTLS" grep -q -x "BOOTSTRAPPED ep=$EP" "$WORK/$name-bs.out"
    check "${label}client exited 0 after the bootstrap over DTLS (got $CLIENT_RC)" test "$CLIENT_RC" = 0
    check "${label}then registered over DTLS with the written keys ($(line "$name" "REGISTERED "))" \
        eval '[[ $(line "$name" "REGISTERED ") == "REGISTERED ep=$EP lt=60 lwm2m="*" secure=true identity=$dm_identity" ]]'
    check "${label}a notification after the bootstrap over DTLS" test -n "$(line "$name" "NOTIFY ")"
}

run secure-bootstrap "$KEY" 40
check_secure_bootstrap secure-bootstrap "$BS_IDENTITY" "$IDENTITY" ""

if [ -n "${LESHAN_DTLS_RPK:-}" ]; then
    # P-256 keys: PKCS#8 DER for private keys, SubjectPublicKeyInfo DER for public ones.
    for k in client server other bs; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out "$WORK/$k.sec1.der" 2>/dev/null
        openssl pkcs8 -topk8 -nocrypt -inform DER -in "$WORK/$k.sec1.der" -outform DER -out "$WORK/$k.p8"
        openssl pkey -inform DER -in "$WORK/$k.p8" -pubout -outform DER -out "$WORK/$k.pub.der"
    done
    SERVER_SECURITY=(--rpk-client-public "$WORK/client.pub.der" --rpk-server-private "$WORK/server.p8"
        --rpk-server-public "$WORK/server.pub.der")
    CLIENT_SECURITY=(-K "$WORK/client.p8" -P "$WORK/server.pub.der")
    run rpk - 40
    check "RPK: Leshan scenario exited 0 (got $SERVER_RC)" test "$SERVER_RC" = 0
    check "RPK: client exited 0 (got $CLIENT_RC)" test "$CLIENT_RC" = 0
    check "RPK: registered over DTLS with the client's raw public key ($(line rpk "REGISTERED "))" \
        eval '[[ $(line rpk "REGISTERED ") == "REGISTERED ep=$EP lt=60 lwm2m="*" secure=true identity=rpk" ]]'
    check "RPK: Read /3/0/0 over DTLS ($(line rpk "READ /3/0/0 "))" test "$(line rpk "READ /3/0/0 ")" = "READ /3/0/0 205 tern"
    check "RPK: a notification over DTLS ($(line rpk "NOTIFY "))" eval '[[ $(line rpk "NOTIFY ") =~ ^"NOTIFY /3303/0/5700 "[0-9.]+$ ]]'
    check "RPK: de-registered over DTLS" test -n "$(line rpk "DEREGISTERED")"

    CLIENT_SECURITY=(-K "$WORK/client.p8" -P "$WORK/other.pub.der")
    run rpk-wrong-server - 10
    check "RPK: a client expecting another server key never registers ($(line rpk-wrong-server "FAIL "))" \
        test "$(line rpk-wrong-server "FAIL ")" = "FAIL timeout waiting for REGISTERED"
    check "RPK: the client expecting another server key reported no registration" \
        eval '! grep -q "registered with server" "$WORK/rpk-wrong-server-client.out"'

    # The raw public keys from Leshan's bootstrap server (Security mode 1).
    CLIENT_SECURITY=()
    BS_DM_SECURITY=(--rpk-client-private "$WORK/client.p8" --rpk-client-public "$WORK/client.pub.der"
        --rpk-server-public "$WORK/server.pub.der")
    run rpk-bootstrap - 40
    stop "$BS_PID"
    check "RPK: bootstrapped in raw-public-key mode" grep -q -x "BOOTSTRAPPED ep=$EP" "$WORK/rpk-bootstrap-bs.out"
    check "RPK: client exited 0 after the bootstrap (got $CLIENT_RC)" test "$CLIENT_RC" = 0
    check "RPK: registered over DTLS with the bootstrap-written keys ($(line rpk-bootstrap "REGISTERED "))" \
        eval '[[ $(line rpk-bootstrap "REGISTERED ") == "REGISTERED ep=$EP lt=60 lwm2m="*" secure=true identity=rpk" ]]'
    check "RPK: a notification after the bootstrap" test -n "$(line rpk-bootstrap "NOTIFY ")"

    # The bootstrap server itself over DTLS with raw public keys (its own key pair).
    run rpk-secure-bootstrap - 40
    check_secure_bootstrap rpk-secure-bootstrap rpk rpk "RPK: "
    unset SERVER_SECURITY CLIENT_SECURITY BS_DM_SECURITY
fi

if [ "$FAILED" -ne 0 ]; then
    for f in "$WORK"/*.out; do echo "--- $(basename "$f")"; cat "$f"; done
fi
exit "$FAILED"
