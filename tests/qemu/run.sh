#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# The engine's protocol cases (tests/protocol/) as firmware on QEMU: built for Cortex-M3
# (thumbv7m-none-eabi, run on mps2-an385) and Cortex-M4F (thumbv7em-none-eabihf, run on
# mps2-an386) with semihosting. Fails when a build fails, a run times out or exits
# non-zero, a case fails, or the "N passed, N failed" line is missing.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"
# A directory of its own: this crate has its own profile and lock file.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}/qemu-tests"
RUN_TIMEOUT=${QEMU_TEST_TIMEOUT:-120}

for tool in cargo qemu-system-arm timeout; do
	command -v "$tool" >/dev/null 2>&1 || { echo "qemu tests: $tool not found (run .ci/install.sh)" >&2; exit 1; }
done

status=0
# run TARGET MACHINE CPU
run() {
	local target=$1 machine=$2 cpu=$3
	echo "--- $cpu ($target on QEMU $machine)"
	if ! cargo build --release --quiet --target "$target"; then
		echo "qemu tests: the $target build failed"
		return 1
	fi
	local elf="$CARGO_TARGET_DIR/$target/release/tern-qemu-tests"
	if command -v arm-none-eabi-size >/dev/null 2>&1; then
		arm-none-eabi-size "$elf"
	fi
	local log
	log=$(mktemp)
	local start end
	start=$(date +%s%N)
	timeout "$RUN_TIMEOUT" qemu-system-arm -M "$machine" -nographic -monitor none \
		-semihosting-config enable=on,target=native -kernel "$elf" </dev/null | tee "$log"
	local rc=${PIPESTATUS[0]}
	end=$(date +%s%N)
	echo "($cpu run: $(((end - start) / 1000000)) ms)"
	local summary
	summary=$(tail -n 1 "$log" | tr -d '\r')
	rm -f "$log"
	if [ "$rc" -eq 124 ]; then
		echo "qemu tests: $cpu run timed out after ${RUN_TIMEOUT} s"
		return 1
	fi
	if ! [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		echo "qemu tests: $cpu run ended without the summary line (exit status $rc)"
		return 1
	fi
	if [ "${BASH_REMATCH[2]}" -ne 0 ] || [ "${BASH_REMATCH[1]}" -eq 0 ] || [ "$rc" -ne 0 ]; then
		echo "qemu tests: $cpu run failed (exit status $rc)"
		return 1
	fi
	return 0
}

run thumbv7m-none-eabi mps2-an385 "Cortex-M3" || status=1
run thumbv7em-none-eabihf mps2-an386 "Cortex-M4F" || status=1
exit $status
