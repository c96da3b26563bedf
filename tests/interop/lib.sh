# Shell helpers shared by the interop scripts (sourced, not run).
# SPDX-License-Identifier: Apache-2.0 OR MIT

# stop PID: TERM, a short grace, then KILL; its whole process group when it leads one.
stop() {
    local pid=$1 target=$1 n=0
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    if [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then target=-$pid; fi
    kill -TERM -- "$target" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 20 ]; do sleep 0.1; n=$((n + 1)); done
    kill -KILL -- "$target" 2>/dev/null || true
}

# listening_port PID FILE SECONDS: prints the port of the first "LISTENING <port>" line PID
# writes to FILE within SECONDS; prints nothing when PID exits or the time runs out first.
listening_port() {
    local pid=$1 file=$2 deadline=$((SECONDS + $3)) port=""
    while [ $SECONDS -lt $deadline ]; do
        port=$(sed -n 's/^LISTENING \([0-9][0-9]*\)$/\1/p' "$file" | head -n1)
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$port"
}

# check DESCRIPTION COMMAND...: prints ok/not ok; sets FAILED=1 when COMMAND fails.
check() {
    local what=$1; shift
    if "$@"; then echo "ok - $what"; else echo "not ok - $what"; FAILED=1; fi
}
