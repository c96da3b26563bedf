#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 60) and prints how many inputs each
# one executed. Exits non-zero when a target finds a crash or does not build; the two are
# reported apart (a crash names its input in fuzz/artifacts/).
#
#   fuzz/run.sh 30            # every target, 30 s each
#   fuzz/run.sh 30 tlv link   # only these targets
#
# Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly --profile minimal && cargo install cargo-fuzz
# Crashing inputs are kept in fuzz/artifacts/<target>/, the growing corpus in fuzz/corpus/<target>/.
set -u

secs="${1:-60}"
shift || true
cd "$(dirname "$0")"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "run.sh: needs 'cargo +nightly fuzz' (rustup toolchain install nightly --profile minimal; cargo install cargo-fuzz)" >&2
    exit 1
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

if ! cargo +nightly fuzz build >/dev/null 2>&1; then
    cargo +nightly fuzz build 2>&1 | tail -n 30 >&2
    echo "run.sh: the fuzz targets do not build" >&2
    exit 1
fi

passed=0
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="$(mktemp)"
    cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "$t: ${execs:-?} execs in ${secs} s, no crash"
    elif grep -q 'Test unit written' "$log"; then
        failed=$((failed + 1))
        echo "$t: FAILED (exit $rc) after ${execs:-?} execs; see fuzz/artifacts/$t/"
        grep -E '^(==[0-9]+==|thread .* panicked|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -n 20
    else
        # No input was written: the target did not build or start (for instance when the
        # sources changed during the run and the rebuild failed), which is not a crash.
        failed=$((failed + 1))
        echo "$t: FAILED (exit $rc): did not build or run; no crashing input"
        tail -n 15 "$log"
    fi
    rm -f "$log"
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
