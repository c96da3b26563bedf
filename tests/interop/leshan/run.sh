#!/usr/bin/env bash
# Interop test: the client under test against an Eclipse Leshan LwM2M server.
#
#   run.sh CLIENT_BIN [ARGS...]       or       run.sh "CLIENT_BIN ARGS..."
#
# The client is started as
#   CLIENT_BIN [ARGS...] -u coap://127.0.0.1:PORT -e tern-leshan-<pid> -l 60 -x 12 -U 3 -a -S
# (with LESHAN_MODE=queue: -x 12 -Q 2000 -U 6, against the scenario's queue-mode variant)
# Everything runs on 127.0.0.1 with a port picked by the system; every wait is bounded and
# every process started here is stopped on exit. Exit status 0 only if every check passed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

if [ $# -lt 1 ] || [ -z "$1" ]; then
    echo "usage: $0 CLIENT_BIN [ARGS...]" >&2
    exit 2
fi
if [ $# -eq 1 ]; then
    read -r -a CLIENT_CMD <<<"$1"
else
    CLIENT_CMD=("$@")
fi

# LESHAN_MODE=queue runs the queue-mode scenario instead of the full one.
MODE=${LESHAN_MODE:-full}
EP="tern-leshan-$$"
LIFETIME=60
UPDATE_AFTER=3
EXIT_AFTER=12
SCENARIO_TIMEOUT=60   # seconds, inside the Java program
OVERALL_TIMEOUT=90    # seconds, for both processes together
LISTEN_TIMEOUT=30     # seconds for the server to bind

"$HERE/setup.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tern-leshan.XXXXXX")
SERVER_PID=""
CLIENT_PID=""

. "$HERE/../lib.sh"
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

JAVA=${JAVA:-java}
SCENARIO_ARGS=()
if [ "$MODE" = queue ]; then
    SCENARIO_ARGS=(--queue)
fi
"${SETSID[@]}" "$JAVA" -cp "$HERE/target/tern-leshan-scenario.jar:$HERE/target/deps/*" \
    org.tern.interop.LeshanScenario --port 0 --endpoint "$EP" --timeout "$SCENARIO_TIMEOUT" \
    "${SCENARIO_ARGS[@]}" \
    >"$WORK/server.out" 2>"$WORK/server.err" </dev/null &
SERVER_PID=$!

PORT=$(listening_port "$SERVER_PID" "$WORK/server.out" "$LISTEN_TIMEOUT")
if [ -z "$PORT" ]; then
    echo "not ok - Leshan server listening (no LISTENING line within ${LISTEN_TIMEOUT}s)"
    echo "--- server stdout"; cat "$WORK/server.out"
    echo "--- server stderr"; cat "$WORK/server.err"
    exit 1
fi
echo "# Leshan listening on coap://127.0.0.1:$PORT, endpoint $EP"

if [ "$MODE" = queue ]; then
    # Awake 2 s after each exchange (as the scenario's Leshan expects), an Update at 6 s.
    CLIENT_ARGS=(-Q 2000 -U 6)
else
    CLIENT_ARGS=(-U "$UPDATE_AFTER" -a -S)
fi
"${SETSID[@]}" "${CLIENT_CMD[@]}" -u "coap://127.0.0.1:$PORT" -e "$EP" -l "$LIFETIME" \
    -x "$EXIT_AFTER" "${CLIENT_ARGS[@]}" >"$WORK/client.out" 2>"$WORK/client.err" </dev/null &
CLIENT_PID=$!

# Wait for both, bounded.
deadline=$((SECONDS + OVERALL_TIMEOUT))
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

# Checks.
FAILED=0
line() { grep -m1 -E "^$1" "$WORK/server.out" || true; }
field() { # line, key -> value of key=value (values contain no spaces)
    tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -n1
}

if [ "$MODE" = queue ]; then
    REG=$(line "REGISTERED ")
    check "scenario exited 0 (got $SERVER_RC)" test "$SERVER_RC" = 0
    check "client exited 0 (got $CLIENT_RC)" test "$CLIENT_RC" = 0
    check "registered in queue mode ($REG)" test "$(field "$REG" queue)" = true
    check "Leshan saw the client sleep" test -n "$(line "SLEEPING")"
    check "a request while it sleeps is held back ($(line "READ_SLEEPING "))" \
        test "$(line "READ_SLEEPING ")" = "READ_SLEEPING /3/0/0 refused"
    check "the client's Update woke it" test -n "$(line "AWAKE")"
    check "a Read once awake is answered ($(line "READ_AWAKE "))" test "$(line "READ_AWAKE ")" = "READ_AWAKE /3/0/0 205 tern"
    check "the client reported sleeping, then waking" \
        eval 'grep -q "queue mode: asleep" "$WORK/client.out" && sed -n "/queue mode: asleep/,\$p" "$WORK/client.out" | grep -q "queue mode: awake"'
    if [ "$FAILED" -ne 0 ]; then
        echo "--- server stdout"; cat "$WORK/server.out"
        echo "--- client stdout"; cat "$WORK/client.out"
    fi
    exit "$FAILED"
fi

REG=$(line "REGISTERED ")
OBJECTS=${REG#* objects=} # the last field: the root link may hold spaces
READ_RES=$(line "READ /3/0/0 ")
READ_INST=$(line "READ /3/0 ")
DISCOVER=$(line "DISCOVER /3/0 ")
WRITE=$(line "WRITE /1/0/1 ")
EXECUTE=$(line "EXECUTE /1/0/8 ")
success() { [[ $(cut -d' ' -f3 <<<"$1") =~ ^2[0-9][0-9]$ ]]; }
has_link() { [[ ",$OBJECTS," == *",<$1>"[,\;]* ]]; }

check "scenario exited 0 (got $SERVER_RC)" test "$SERVER_RC" = 0
check "client exited 0 (got $CLIENT_RC)" test "$CLIENT_RC" = 0
check "registered with endpoint $EP" test "$(field "$REG" ep)" = "$EP"
check "lifetime 60 (lt=$(field "$REG" lt))" test "$(field "$REG" lt)" = "$LIFETIME"
check "binding U (b=$(field "$REG" b))" test "$(field "$REG" b)" = "U"
check "objects list </1/0>" has_link /1/0
check "objects list </3/0>" has_link /3/0
check "objects list </3303/0>" has_link /3303/0
check "objects do not list Security /0" eval '[[ -n $REG && ",$OBJECTS" != *",</0/"* && ",$OBJECTS" != *",</0>"* ]]'
check "Read /3/0/0 succeeded" success "$READ_RES"
check "Read /3/0/0 is 'tern' ($(cut -d' ' -f4- <<<"$READ_RES"))" test "$(cut -d' ' -f4- <<<"$READ_RES")" = "tern"
check "Read /3/0 (TLV) succeeded" success "$READ_INST"
# The client's factory ACLs (-a), as Leshan decodes object 2: /3/0 owned by server 1 with
# a default Read entry, Create on /3303 for server 1.
READ_ACL=$(line "READ /2 ")
check "objects list </2/0>" has_link /2/0
check "Read /2 (TLV) succeeded" success "$READ_ACL"
check "Read /2 shows the factory ACLs ($READ_ACL)" \
    eval '[[ $(cut -d" " -f4- <<<"$READ_ACL") == "0:3/0/owner=1/acl=0=1, 1:3303/65535/owner=65535/acl=1=16," ]]'
for f in 110 112 11543; do
    READ_AS=$(line "READ_AS $f /3/0 ")
    check "Read /3/0 in content format $f succeeded" eval '[[ $(cut -d" " -f4 <<<"$READ_AS") =~ ^2[0-9][0-9]$ ]]'
    check "Read /3/0 in content format $f has what the TLV read has" eval '[[ $(cut -d" " -f6 <<<"$READ_AS") == true ]]'
    WRITE_AS=$(line "WRITE_AS $f /1/0/1 ")
    check "Write /1/0 in content format $f succeeded" eval '[[ $(cut -d" " -f4 <<<"$WRITE_AS") =~ ^2[0-9][0-9]$ ]]'
done
READ_COMPOSITE=$(line "READ_COMPOSITE ")
check "Read-Composite of /3/0/0 and /1/0/1 succeeded" success "x $READ_COMPOSITE"
check "Read-Composite has /3/0/0 = tern and /1/0/1 = $LIFETIME ($READ_COMPOSITE)" \
    eval '[[ $(cut -d" " -f3- <<<"$READ_COMPOSITE") == "tern $LIFETIME" ]]'
check "Write-Composite of /1/0/1 succeeded" success "x $(line "WRITE_COMPOSITE ")"
WRITE_ATTRS=$(line "WRITE_ATTRIBUTES ")
check "Write-Attributes /3/0 succeeded ($WRITE_ATTRS)" eval '[[ ${WRITE_ATTRS##* } =~ ^2[0-9][0-9]$ ]]'
DISCOVER_ATTRS=$(line "DISCOVER_ATTRIBUTES ")
check "Discover /3/0 shows pmin=5 and pmax=60 ($DISCOVER_ATTRS)" \
    eval '[[ $DISCOVER_ATTRS == *"</3/0>;pmin=5;pmax=60"* ]]'
check "Discover /3/0 succeeded" success "$DISCOVER"
OBSERVE=$(line "OBSERVE /1/0/3 ")
check "Observe /1/0/3 established ($OBSERVE)" eval '[[ $OBSERVE == "OBSERVE /1/0/3 205 observing" ]]'
NOTIFY=$(line "NOTIFY /1/0/3 ")
check "a Write of /1/0/3 was notified ($NOTIFY)" eval '[[ $NOTIFY == "NOTIFY /1/0/3 300" ]]'
MORE=$(line "OBSERVE_MORE ")
check "Observe of the instance /1/0, the object /1 and a composite established ($MORE)" \
    test "$MORE" = "OBSERVE_MORE 205 205 205 true"
NOTIFY_MORE=$(line "NOTIFY_MORE ")
check "a Write of /1/0/2 notified the instance, the object and the composite ($NOTIFY_MORE)" \
    test "$NOTIFY_MORE" = "NOTIFY_MORE /1 1, /1/0 1, composite 1 tern"
check "an active cancel (Observe 1) stops the notifications ($(line "CANCEL_ACTIVE "))" \
    test "$(line "CANCEL_ACTIVE ")" = "CANCEL_ACTIVE /1/0/3 205 silent"
check "after a passive cancel the others still notify ($(line "CANCEL_PASSIVE "))" \
    test "$(line "CANCEL_PASSIVE ")" = "CANCEL_PASSIVE /1/0 /1 2, composite 2 tern"
check "the passive cancel's Reset ended the observation on the client" \
    grep -q "tern: an observation of server 0 ended" "$WORK/client.out"
check "Write /1/0/1 succeeded" success "$WRITE"
check "Execute /1/0/8 succeeded" success "$EXECUTE"
FW_DOWNLOADED=$(line "FIRMWARE_DOWNLOADED ")
check "Firmware Update: Package URI written ($(line "FIRMWARE_WRITE_URI "))" success "x $(line "FIRMWARE_WRITE_URI ")"
check "Firmware Update: State 2 (downloaded) after the pull ($FW_DOWNLOADED)" eval '[[ $(cut -d" " -f2 <<<"$FW_DOWNLOADED") == 2 ]]'
check "Firmware Update: the client got the package's exact bytes" \
    grep -q -x "tern: firmware package $(cut -d' ' -f4 <<<"$FW_DOWNLOADED") bytes crc32 $(cut -d' ' -f5 <<<"$FW_DOWNLOADED")" "$WORK/client.out"
check "Firmware Update: Execute /5/0/2 succeeded" success "x $(line "FIRMWARE_EXECUTE ")"
check "Firmware Update: Idle with Update Result 1 ($(line "FIRMWARE_RESULT "))" test "$(line "FIRMWARE_RESULT ")" = "FIRMWARE_RESULT 0 1"
# The optional standard objects the demo serves (tern_client_set_connectivity/_location).
check "objects list </4/0>, </6/0> and </7/0>" eval 'has_link /4/0 && has_link /6/0 && has_link /7/0'
READ_CM=$(line "READ /4/0 ")
check "Read /4/0 (TLV) has what the demo set ($READ_CM)" \
    eval '[[ $READ_CM =~ ^"READ /4/0 205 bearer=41 rssi=-60 ip=127.0.0.1"$ ]]'
READ_LOC=$(line "READ /6/0 ")
check "Read /6/0 (TLV) has what the demo set ($READ_LOC)" \
    eval '[[ $READ_LOC =~ ^"READ /6/0 205 lat=48.8584 lon=2.2945 alt=35.0"$ ]]'
check "Execute /7/0/6 (Start) succeeded" success "$(line "EXECUTE /7/0/6 ")"
READ_ST=$(line "READ /7/0 ")
# After Start and eight TLV reads of /3/0: some kilobytes begun each way (never 0 once a
# datagram was counted), messages of 40 bytes or more (IP and UDP headers included).
check "Read /7/0 counted the traffic ($READ_ST)" \
    eval '[[ $READ_ST =~ ^"READ /7/0 205 tx="([1-9][0-9]*)" rx="([1-9][0-9]*)" max="([0-9]+)" avg="([0-9]+)$ ]] && (( BASH_REMATCH[3] >= 40 && BASH_REMATCH[4] >= 40 ))'
check "Execute /7/0/7 (Stop) succeeded" success "$(line "EXECUTE /7/0/7 ")"
# The Server object: the instance in TLV with the spec's defaults of the registration
# resources, a Write of the Disable Timeout read back, a negative one refused.
READ_SO=$(line "READ /1/0 ")
check "Read /1/0 (TLV) has the Server object's resources ($READ_SO)" \
    eval '[[ $READ_SO =~ ^"READ /1/0 205 ssid="[0-9]+" lt=$LIFETIME dt=86400 b=U retry=5 timer=60 seqdelay=86400 seqretry=1"$ ]]'
check "Write /1/0/5 (Disable Timeout) stored ($(line "WRITE /1/0/5 "))" \
    test "$(line "WRITE /1/0/5 ")" = "WRITE /1/0/5 204 3600"
check "Write /1/0/5 of -1 refused, value kept ($(line "WRITE_BAD /1/0/5 "))" \
    test "$(line "WRITE_BAD /1/0/5 ")" = "WRITE_BAD /1/0/5 400 3600"
if has_link /33000/0; then
    BLOCK_READ=$(line "BLOCK2_READ ")
    BLOCK_WRITE=$(line "BLOCK1_WRITE ")
    BLOCK_BACK=$(line "BLOCK2_READBACK ")
    check "block-wise Read of 1500 bytes (Block2) ($BLOCK_READ)" eval '[[ $BLOCK_READ =~ ^BLOCK2_READ\ /33000/0/0\ 205\ 1500\ true$ ]]'
    check "block-wise Write of 2500 bytes (Block1) ($BLOCK_WRITE)" eval '[[ $BLOCK_WRITE =~ ^BLOCK1_WRITE\ /33000/0/0\ 204\ 2500$ ]]'
    check "block-wise Read gives back what was written ($BLOCK_BACK)" eval '[[ $BLOCK_BACK =~ ^BLOCK2_READBACK\ /33000/0/0\ 205\ 2500\ true$ ]]'
fi
# The demo's Schedule object (33001): Create/Delete, Execute with arguments, Read of a
# resource instance, Write of one resource, Write replace vs partial update.
if has_link /33001/0; then
    for f in 11542 110 112 11543; do
        id=$(( 10 + $(grep -n -x "$f" <<<$'11542\n110\n112\n11543' | cut -d: -f1) - 1 ))
        CREATED=$(line "CREATE $f /33001/$id ")
        check "Create /33001/$id in $f: 2.01 at 33001/$id, listed in an Update, reads back ($CREATED)" \
            eval '[[ $CREATED == "CREATE $f /33001/$id 201 33001/$id listed=true read=205 same=true" ]]'
        DELETED=$(line "DELETE $f /33001/$id ")
        check "Delete /33001/$id: 2.02, gone from an Update, then Read 4.04 ($DELETED)" \
            eval '[[ $DELETED == "DELETE $f /33001/$id 202 unlisted=true read=404" ]]'
    done
    CREATED=$(line "CREATE 11542 /33001 ")
    check "Create /33001 without an id (TLV): 2.01 at the lowest free id 33001/1, listed, reads back ($CREATED)" \
        eval '[[ $CREATED == "CREATE 11542 /33001 201 33001/1 listed=true read=205 same=true" ]]'
    DELETED=$(line "DELETE 11542 /33001/1 ")
    check "Delete /33001/1: 2.02, gone from an Update, then Read 4.04 ($DELETED)" \
        eval '[[ $DELETED == "DELETE 11542 /33001/1 202 unlisted=true read=404" ]]'
    check "the client's create and delete handlers ran for /33001/10 and /33001/1" \
        eval 'grep -q -x "tern: schedule 10 created" "$WORK/client.out" && grep -q -x "tern: schedule 1 deleted" "$WORK/client.out"'
    EXEC_ARGS=$(line "EXECUTE_ARGS /33001/0/2 ")
    check "Execute /33001/0/2 with arguments 0='morning',1 succeeded ($EXEC_ARGS)" \
        eval '[[ $EXEC_ARGS == "EXECUTE_ARGS /33001/0/2 204 0='"'"'morning'"'"',1" ]]'
    check "the client got the exact arguments" grep -q -x -F "tern: run /33001/0/2 arguments [0='morning',1]" "$WORK/client.out"
    for bad in "0=morning" "0='a b'" "10"; do
        BAD=$(grep -m1 -x -F "EXECUTE_BAD_ARGS /33001/0/2 400 $bad" "$WORK/server.out" || true)
        check "Execute /33001/0/2 with malformed arguments $bad: 4.00" test -n "$BAD"
        check "malformed arguments $bad never reached the application" \
            eval '! grep -q -F "arguments [$bad]" "$WORK/client.out"'
    done
    for f in 0 11542 110 112 11543; do
        READ_RI=$(line "READ_RI $f /33001/0/1/1 ")
        check "Read of resource instance /33001/0/1/1 in $f is 1080 ($READ_RI)" test "$READ_RI" = "READ_RI $f /33001/0/1/1 205 1080"
    done
    check "Read of an absent resource instance /33001/0/1/9: 4.04" test "$(line "READ_RI 0 /33001/0/1/9 ")" = "READ_RI 0 /33001/0/1/9 404"
    check "Write /33001/0/0 in text/plain reads back ($(line "WRITE_SINGLE 0 "))" \
        test "$(line "WRITE_SINGLE 0 ")" = "WRITE_SINGLE 0 /33001/0/0 204 kitchen true"
    if has_link /33000/0; then
        check "Write /33000/0/0 in opaque (16 bytes) reads back ($(line "WRITE_SINGLE 42 "))" \
            test "$(line "WRITE_SINGLE 42 ")" = "WRITE_SINGLE 42 /33000/0/0 204 16 true"
    fi
    for f in 0 11542 110 112 11543; do
        for lv in "/33001/0/0 kitchen" "/33001/0/1 {0=360,1=1080}" "/33001/0 kitchen {0=360,1=1080}" \
            "/33001 kitchen {0=360,1=1080}"; do
            p=${lv%% *}
            [ "$f" = 0 ] && [ "$p" != /33001/0/0 ] && continue
            READ_LEVEL=$(line "READ_LEVEL $f $p ")
            check "Read $p in $f: 2.05 with ${lv#* } ($READ_LEVEL)" test "$READ_LEVEL" = "READ_LEVEL $f $p 205 ${lv#* }"
        done
    done
    check "Read in plain CBOR (60), a format the client lacks: 4.06" \
        test "$(line "READ_LEVEL 60 ")" = "READ_LEVEL 60 /33001/0/0 406"
    for f in 11542 110 112 11543; do
        for step in "REPLACE /33001/0/1" "UPDATE /33001/0/1" "REPLACE /33001/0" "UPDATE /33001/0"; do
            MODE=$(line "WRITE_MODE $f $step ")
            check "Write $step in $f: 2.04, reads back as expected ($MODE)" eval '[[ $MODE =~ ^"WRITE_MODE $f $step 204 ".*" true"$ ]]'
        done
    done
    check "a replacing Write emptied Times through clear_resource" grep -q -x "tern: schedule 0 times cleared" "$WORK/client.out"
fi
# Send (LwM2M 1.1): the demo (-S) sends /3/0/0 and /3303/0 in SenML CBOR once registered.
SEND=$(line "SEND ")
check "Send of /3/0/0 and /3303/0 reached Leshan's SendListener in SenML CBOR ($SEND)" \
    eval '[[ $SEND == "SEND ep=$EP format=112 "*"/3/0/0=tern "*"/3303/0/5700="* ]]'
check "the client heard that its Send succeeded" grep -q -x "tern: send succeeded" "$WORK/client.out"
check "registration Update received" grep -q -E "^UPDATED ep=$EP( |\$)" "$WORK/server.out"
check "De-registration received" grep -q -x "DEREGISTERED ep=$EP" "$WORK/server.out"

if [ "$FAILED" != 0 ]; then
    echo "--- server stdout"; cat "$WORK/server.out"
    echo "--- server stderr"; cat "$WORK/server.err"
    echo "--- client stdout"; cat "$WORK/client.out"
    echo "--- client stderr"; cat "$WORK/client.err"
    echo "# FAIL"
    exit 1
fi
echo "# PASS"
