#!/usr/bin/env bash
# Fails when the static library defines or references any heap allocator symbol, for the
# host build and for the Cortex-M4F build.
#
# Note: the Rust objects in libtern.a carry embedded LLVM bitcode (.llvmbc). Plain GNU nm
# hands such members to its LTO plugin, which cannot read a newer LLVM and then reports
# "no symbols", so the check would pass without looking at anything. nm is therefore run
# with an explicit ELF target (--target=...), and the check insists that the library's
# own entry points were seen.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CROSS=thumbv7em-none-eabihf

# Whole symbol names (never substrings: "freeze" or "free_list" are fine). Besides the C
# allocator and the Rust allocator shims named in the policy, the newlib reentrant forms
# and the other C allocation entry points are banned too.
BANNED='malloc|calloc|realloc|free|__rust_alloc|__rust_dealloc|__rust_realloc|__rg_alloc'
BANNED_EXTRA='__rust_alloc_zeroed|__rg_dealloc|__rg_realloc|__rg_alloc_zeroed|__rdl_alloc|__rdl_dealloc|__rdl_realloc|__rdl_alloc_zeroed|_malloc_r|_calloc_r|_realloc_r|_free_r|aligned_alloc|posix_memalign|memalign|valloc|pvalloc'
# A name is banned when it is one of the list, or a Rust v0-mangled symbol in the
# compiler's own namespace whose last identifier is one of the list (recent compilers
# emit the allocator shims as _RNv..._7___rustc12___rust_alloc).
matcher() {
    awk -v list="$BANNED|$BANNED_EXTRA" '
        BEGIN { plain = "^(" list ")$"; mangled = "^_RNv.*_7___rustc[0-9]+_?(" list ")$" }
        { name = $NF; if (name ~ plain || name ~ mangled) print }'
}

# The matcher itself must behave: these must hit, those must not.
selftest_hit=$(printf '%s\n' 'x U malloc' 'x T free' 'x U __rust_alloc' 'x U _RNvCs1234_7___rustc12___rust_alloc' \
    'x U __rg_alloc' | matcher | wc -l)
selftest_miss=$(printf '%s\n' 'x T freeze' 'x T free_list' 'x T my_malloc' 'x T mallocx' 'x T __rust_alloc_error_handler_should_panic_v2' \
    'x T _ZN4tern3buf4free17h0123456789abcdefE' | matcher | wc -l)
if [ "$selftest_hit" -ne 5 ] || [ "$selftest_miss" -ne 0 ]; then
    echo "no-heap: error: the symbol matcher is broken (hits $selftest_hit/5, false hits $selftest_miss)" >&2
    exit 1
fi

case "$(uname -m)" in
    x86_64) HOST_BFD=elf64-x86-64 ;;
    aarch64) HOST_BFD=elf64-littleaarch64 ;;
    *) echo "no-heap: error: add the BFD target name for $(uname -m)" >&2; exit 1 ;;
esac

# The library as shipped: the static library alone, which is what cargo links with LTO.
echo "no-heap: cargo rustc --release --lib --crate-type staticlib (host)"
cargo rustc --release --lib --crate-type staticlib
echo "no-heap: cargo rustc --release --lib --crate-type staticlib --target $CROSS"
cargo rustc --release --lib --crate-type staticlib --target "$CROSS"

total=0
bad=0
check() { # label nm bfd archive
    local label=$1 nm=$2 bfd=$3 lib=$4 syms hits n
    if [ ! -f "$lib" ]; then
        echo "no-heap: error: $lib not found" >&2
        exit 1
    fi
    syms=$("$nm" -A --target="$bfd" "$lib" 2>/dev/null | awk 'NF >= 2 && $(NF-1) ~ /^[A-Za-z?-]$/') || true
    n=$(printf '%s\n' "$syms" | grep -c . || true)
    if ! printf '%s\n' "$syms" | awk '$(NF-1) == "T" && $NF == "tern_client_init" { ok = 1 } END { exit !ok }'; then
        echo "no-heap: error: $label: nm did not list tern_client_init as defined in $lib (unreadable archive?)" >&2
        exit 1
    fi
    hits=$(printf '%s\n' "$syms" | matcher) || true
    echo "no-heap: $label: $n symbols in $lib"
    if [ -n "$hits" ]; then
        echo "no-heap: FAIL: $label: heap symbols (defined or undefined):" >&2
        printf '%s\n' "$hits" | sed 's/^/  /' >&2
        bad=1
    fi
    total=$((total + n))
}

check host nm "$HOST_BFD" "$TARGET_DIR/release/libtern.a"
check "$CROSS" arm-none-eabi-nm elf32-littlearm "$TARGET_DIR/$CROSS/release/libtern.a"

if [ "$bad" -ne 0 ]; then
    exit 1
fi
echo "no-heap: ok ($total symbols checked)"
