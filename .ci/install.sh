#!/usr/bin/env bash
# Installs every tool CI needs on a fresh Debian 12 machine (run as root). Idempotent:
# apt runs only when a tool is missing, and tools that are already there (node, java,
# maven, ...) are never replaced or downgraded.
set -euo pipefail

log() { printf 'install: %s\n' "$*"; }

# command -> Debian package(s) that provide it
declare -a WANT=(
    "arm-none-eabi-gcc:gcc-arm-none-eabi"
    "qemu-system-arm:qemu-system-arm"
    "nm:binutils"
    "valgrind:valgrind"
    "make:make"
    "python3:python3"
    "openssl:openssl"
    "coap-server-gnutls:libcoap3-bin"
    "gnutls-serv:gnutls-bin"
    "certtool:gnutls-bin"
    "java:openjdk-17-jdk-headless"
    "javac:openjdk-17-jdk-headless"
    "mvn:maven"
    "node:nodejs"
    "npm:npm"
)

missing=()
for entry in "${WANT[@]}"; do
    cmd=${entry%%:*}
    pkg=${entry#*:}
    if command -v "$cmd" >/dev/null 2>&1; then
        log "have $cmd ($(command -v "$cmd"))"
    else
        log "missing $cmd -> apt package $pkg"
        missing+=("$pkg")
    fi
done

# newlib (with the rdimon semihosting specs) has no command of its own: check for its files.
newlib_ok() {
    command -v arm-none-eabi-gcc >/dev/null 2>&1 || return 1
    local f
    f=$(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
        -print-file-name=rdimon.specs 2>/dev/null) || return 1
    [ -f "$f" ]
}
# OpenSSL's headers, for the POSIX example whose platform does the DTLS itself.
if [ ! -f /usr/include/openssl/ssl.h ]; then
    log "missing OpenSSL headers -> apt package libssl-dev"
    missing+=("libssl-dev")
fi
# mbedTLS 2.28's headers and libraries, for the examples whose platform DTLS is mbedTLS.
if [ ! -f /usr/include/mbedtls/ssl.h ]; then
    log "missing mbedTLS headers -> apt package libmbedtls-dev"
    missing+=("libmbedtls-dev")
fi
if newlib_ok; then
    log "have newlib (rdimon.specs)"
else
    log "missing newlib -> apt package libnewlib-arm-none-eabi"
    missing+=("libnewlib-arm-none-eabi")
fi

if [ "${#missing[@]}" -gt 0 ]; then
    # Deduplicate, keep order.
    mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
    if [ "$(id -u)" -ne 0 ]; then
        echo "install: error: need root to apt-get install: ${pkgs[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    log "apt-get update"
    apt-get update
    log "apt-get install --no-install-recommends ${pkgs[*]}"
    apt-get install -y --no-install-recommends "${pkgs[@]}"
else
    log "all system tools present: skipping apt"
fi

# Verify: every tool must now exist.
for entry in "${WANT[@]}"; do
    cmd=${entry%%:*}
    command -v "$cmd" >/dev/null 2>&1 || { echo "install: error: $cmd still missing" >&2; exit 1; }
done
newlib_ok || { echo "install: error: newlib (rdimon.specs) still missing" >&2; exit 1; }

# Rust cross targets.
if ! command -v rustup >/dev/null 2>&1; then
    echo "install: error: rustup not found (a Rust toolchain is required)" >&2
    exit 1
fi
TARGETS=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf riscv32imac-unknown-none-elf)
installed=$(rustup target list --installed)
todo=()
for t in "${TARGETS[@]}"; do
    if grep -qx "$t" <<<"$installed"; then
        log "have rust target $t"
    else
        todo+=("$t")
    fi
done
if [ "${#todo[@]}" -gt 0 ]; then
    log "rustup target add ${todo[*]}"
    rustup target add "${todo[@]}"
fi

# A nightly toolchain with Miri (the tests run the C boundary under it) and, for fuzzing,
# cargo-fuzz (CI runs every target briefly).
# (--allow-downgrade: the newest nightly that ships Miri, should the newest one lack it.)
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    log "rustup toolchain install nightly --profile minimal --component miri,rust-src"
    rustup component add --toolchain nightly miri rust-src 2>/dev/null ||
        rustup toolchain install nightly --profile minimal --component miri,rust-src --allow-downgrade
fi
if [ "${TERN_SKIP_FUZZ_TOOLS:-0}" != 1 ]; then
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
        log "cargo install cargo-fuzz"
        cargo install --locked cargo-fuzz
    fi
fi

log "versions:"
arm-none-eabi-gcc --version | head -n1
qemu-system-arm --version | head -n1
rustc --version
log "done"
