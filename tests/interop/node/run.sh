#!/usr/bin/env bash
# Interop test: the LwM2M client under test against an lwm2m-node-lib 1.4.0 server (scenario.js).
#
# usage: tests/interop/node/run.sh CLIENT_BIN [ARG...]
#   CLIENT_BIN may also be one word-split string, e.g. run.sh "python3 selftest/fake_client.py".
#   The client is started as: CLIENT_BIN -u coap://127.0.0.1:PORT -e tern-node-<pid> -l 60 -U 3 -x 12
# Prints "ok - ..." / "not ok - ..." lines; exit 0 only if every check passed.
# Everything runs on 127.0.0.1; the server's port is picked by the kernel and read from its output.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

if [ $# -lt 1 ]; then
  echo "usage: $0 CLIENT_BIN [ARG...]" >&2
  exit 2
fi
if [ $# -eq 1 ] && [ ! -x "$1" ]; then
  read -r -a CLIENT <<<"$1"
else
  CLIENT=("$@")
fi

LISTEN_WAIT_S=${LISTEN_WAIT_S:-20}   # bound for the server to print LISTENING
RUN_WAIT_S=${RUN_WAIT_S:-90}         # bound for client and scenario together
GRACE_S=${GRACE_S:-10}               # how long the scenario may outlive the client

"$HERE/setup.sh"

EP="tern-node-$$"
WORK=$(mktemp -d)
SRV_OUT="$WORK/server.out"
CLI_OUT="$WORK/client.out"
SRV_PID=""
CLI_PID=""
: >"$SRV_OUT"
: >"$CLI_OUT"

stop() {  # stop the process group we started for $1 (setsid makes each one a group leader)
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  { wait "$pid"; } 2>/dev/null || true
}
cleanup() {
  stop "$CLI_PID"
  stop "$SRV_PID"
  if [ -n "${KEEP_LOGS:-}" ]; then echo "# logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dump() {
  echo "# ---- server (scenario.js) output ----"
  sed 's/^/# /' "$SRV_OUT" 2>/dev/null || true
  echo "# ---- client output (${CLIENT[*]}) ----"
  sed 's/^/# /' "$CLI_OUT" 2>/dev/null || true
}

# 1. server
setsid node --no-warnings "$HERE/scenario.js" "$EP" 0 >"$SRV_OUT" 2>&1 &
SRV_PID=$!
PORT=""
deadline=$((SECONDS + LISTEN_WAIT_S))
while [ $SECONDS -lt $deadline ]; do
  PORT=$(sed -n 's/^LISTENING \([0-9][0-9]*\)$/\1/p;T;q' "$SRV_OUT")
  [ -n "$PORT" ] && break
  kill -0 "$SRV_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "not ok - server listening on 127.0.0.1 (no LISTENING line within ${LISTEN_WAIT_S}s)"
  dump
  exit 1
fi

# 2. client
setsid "${CLIENT[@]}" -u "coap://127.0.0.1:$PORT" -e "$EP" -l 60 -U 3 -x 12 >"$CLI_OUT" 2>&1 &
CLI_PID=$!

# 3. wait for both (bounded)
SRV_RC="" CLI_RC="" CLI_GONE_AT=""
deadline=$((SECONDS + RUN_WAIT_S))
while [ $SECONDS -lt $deadline ]; do
  if [ -z "$CLI_RC" ] && ! kill -0 "$CLI_PID" 2>/dev/null; then
    CLI_RC=0; wait "$CLI_PID" || CLI_RC=$?
    CLI_GONE_AT=$SECONDS
  fi
  if [ -z "$SRV_RC" ] && ! kill -0 "$SRV_PID" 2>/dev/null; then
    SRV_RC=0; wait "$SRV_PID" || SRV_RC=$?
  fi
  [ -n "$CLI_RC" ] && [ -n "$SRV_RC" ] && break
  if [ -n "$CLI_GONE_AT" ] && [ -z "$SRV_RC" ] && [ $((SECONDS - CLI_GONE_AT)) -ge "$GRACE_S" ]; then
    break
  fi
  sleep 0.1
done
[ -n "$CLI_RC" ] || { echo "# client still running after the bound: stopped"; stop "$CLI_PID"; CLI_RC=timeout; }
[ -n "$SRV_RC" ] || { echo "# scenario still running after the bound: stopped"; stop "$SRV_PID"; SRV_RC=timeout; }
CLI_PID="" SRV_PID=""

# 4. checks
FAILED=0 N=0
check() {  # check DESCRIPTION COMMAND...
  local desc=$1; shift
  N=$((N + 1))
  if "$@" >/dev/null 2>&1; then
    echo "ok $N - $desc"
  else
    echo "not ok $N - $desc"
    FAILED=1
  fi
}
REG=$(grep -m1 "^REGISTERED ep=$EP " "$SRV_OUT" || true)
PAYLOAD=${REG#* payload=}
reg_has() { [[ "$REG" == *"$1"* ]]; }
payload_has() { [[ ",$PAYLOAD," == *",$1"[,\;]* ]]; }
payload_lacks_0() { [ -n "$REG" ] && [[ "$PAYLOAD" != *"</0/"* && "$PAYLOAD" != *"</0>"* ]]; }

check "registered with endpoint $EP" test -n "$REG"
check "registration lifetime lt=60" reg_has " lt=60 "
check "registration binding b=U" reg_has " b=U "
check "registration lwm2m=1.1" reg_has " lwm2m=1.1 "
check "registration lists </1/0>" payload_has "</1/0>"
check "registration lists </3/0>" payload_has "</3/0>"
check "registration lists </3303/0>" payload_has "</3303/0>"
check "registration does not list the Security object /0" payload_lacks_0
check "Read /3/0/0 returned tern" grep -qx "READ /3/0/0 ok tern" "$SRV_OUT"
check "Write /1/0/1 (text/plain) succeeded" grep -qx "WRITE /1/0/1 ok" "$SRV_OUT"
check "Execute /1/0/8 succeeded" grep -qx "EXECUTE /1/0/8 ok" "$SRV_OUT"
check "Write-Attributes /3/0 pmin=5 pmax=60 succeeded" grep -qx "WRITE_ATTRIBUTES /3/0 ok" "$SRV_OUT"
check "Discover /3/0 succeeded" grep -q "^DISCOVER /3/0 ok " "$SRV_OUT"
check "Discover /3/0 shows the attributes" grep -q "^DISCOVER /3/0 ok </3/0>;pmin=5;pmax=60," "$SRV_OUT"
check "Read /3/0 in JSON (11543) has /3/0/0 = tern" grep -q "^READ_JSON /3/0 ok 0=tern," "$SRV_OUT"
check "Write /1/0/1 in JSON (11543) succeeded" grep -qx "WRITE_JSON /1/0/1 ok" "$SRV_OUT"
check "Read /1/0/1 after the JSON write returned 60" grep -qx "READ /1/0/1 ok 60" "$SRV_OUT"
if payload_has "</33001/0>"; then
  check "Write /33001/0/1 in JSON (11543, PUT) succeeded" grep -qx "WRITE_JSON /33001/0/1 ok" "$SRV_OUT"
  check "Read /33001/0/1 in JSON holds exactly the instances written (0=555, 2=777)" \
    grep -qx "READ_JSON /33001/0/1 ok 0=555,2=777" "$SRV_OUT"
  check "the replacing write emptied /33001/0/1 first (clear_resource)" grep -qx "tern: schedule 0 times cleared" "$CLI_OUT"
  check "Execute /33001/0/2 with arguments 0='node',1 succeeded" grep -qx "EXECUTE_ARGS /33001/0/2 ok" "$SRV_OUT"
  check "the client got the exact arguments" grep -qxF "tern: run /33001/0/2 arguments [0='node',1]" "$CLI_OUT"
fi
check "Observe /3303/0/5700 established" grep -q "^OBSERVE /3303/0/5700 ok " "$SRV_OUT"
check "notifications of /3303/0/5700 arrived ($(grep -m1 "^NOTIFICATIONS " "$SRV_OUT"))" \
    grep -qE "^NOTIFICATIONS /3303/0/5700 [1-9][0-9]* [0-9]" "$SRV_OUT"
check "Update received" grep -q "^UPDATED ep=$EP " "$SRV_OUT"
check "De-register received" grep -q "^DEREGISTERED ep=$EP " "$SRV_OUT"
check "scenario passed (exit $SRV_RC)" test "$SRV_RC" = 0
check "client exited 0 (exit $CLI_RC)" test "$CLI_RC" = 0
echo "1..$N"

if [ "$FAILED" -ne 0 ]; then
  dump
  exit 1
fi
