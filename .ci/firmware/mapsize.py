#!/usr/bin/env python3
"""Attributes the bytes of a linked image to the tern static library, from a GNU ld map.

Usage: mapsize.py IMAGE.map [--archive libtern.a] [--top N]

Every input section the linker kept is summed into text, rodata, data or bss according to
the output section it landed in. Sections from the archive are split in two groups:

  library            the Rust crate objects (tern, core, heapless, ...): all of it is cost
                     the library adds to an application.
  compiler-builtins  the compiler_builtins members (and the compiler-rt C objects built
                     into it). Those are runtime helpers (memcpy, 64-bit division, soft
                     double arithmetic, ...). Because libtern.a precedes the C library on
                     the link line, its copies also win for symbols the application itself
                     uses (memcpy, memset, strlen, ...), which the application would have
                     had from its C library anyway. So each member is attributed to whoever
                     made the linker pull it in ("Archive member included to satisfy
                     reference by file"): pulled by a libtern member, it is library cost and
                     counted in the totals; pulled by the application or its C library, it
                     is reported but not counted.

Prints KEY=VALUE lines (for the calling script) followed by a human-readable breakdown.
Exits 2 when the map cannot be understood, so that a format change never reads as "0 bytes".
"""
import argparse
import re
import sys
from collections import defaultdict

# Output section -> category. Anything allocated that is not listed makes the parse fail.
OUTPUT_CATEGORY = {
    ".vectors": "rodata",
    ".text": "text",
    ".rodata": "rodata",
    ".ARM.extab": "rodata",
    ".ARM.exidx": "rodata",
    ".init_array": "rodata",
    ".preinit_array": "rodata",
    ".fini_array": "rodata",
    ".data": "data",
    ".bss": "bss",
}
# Output sections that occupy no target memory.
NON_ALLOC = re.compile(r"^\.(debug|comment|ARM\.attributes|stab|note|gnu|symtab|strtab|shstrtab)")

HEX = r"0x[0-9a-fA-F]+"
RE_OUT_FULL = re.compile(rf"^(\S+)\s+({HEX})\s+({HEX})(\s|$)")
RE_OUT_NAME = re.compile(r"^(\.\S*|/DISCARD/)\s*$")
RE_IN_FULL = re.compile(rf"^ (\S+)\s+({HEX})\s+({HEX})\s+(\S.*)$")
RE_IN_NAME = re.compile(r"^ (\S+)\s*$")
RE_CONT = re.compile(rf"^\s+({HEX})\s+({HEX})\s+(\S.*)$")

CATEGORIES = ("text", "rodata", "data", "bss")


def member_of(path, archive):
    """The archive member an input file names, or None when it is not from `archive`."""
    m = re.search(r"(?:^|/)" + re.escape(archive) + r"\((.+)\)\s*$", path.strip())
    return m.group(1) if m else None


def is_builtins(member):
    # compiler_builtins-<hash>.compiler_builtins.<hash>-cgu.N.rcgu.o, and the C objects
    # of compiler-rt that it carries, named <16 hex digits>-<name>.o.
    return member.startswith("compiler_builtins-") or re.match(r"^[0-9a-f]{16}-", member) is not None


def parse_inclusions(lines, archive):
    """member -> referencing file, from 'Archive member included to satisfy reference'."""
    who = {}
    i = 0
    n = len(lines)
    while i < n and not lines[i].startswith("Archive member included"):
        i += 1
    i += 1
    pending = None
    while i < n:
        line = lines[i]
        if line.startswith(("Memory Configuration", "Discarded input sections", "Allocating common",
                            "Linker script and memory map")):
            break
        i += 1
        if not line.strip():
            continue
        if not line[0].isspace():
            # "archive(member)" possibly followed on the same line by "file (symbol)".
            m = re.match(r"^(\S+\(.*?\))\s*(\S.*)?$", line)
            if not m:
                pending = None
                continue
            pending = m.group(1)
            if m.group(2):
                who[pending] = m.group(2)
                pending = None
        elif pending is not None:
            who[pending] = line.strip()
            pending = None
    out = {}
    for inc, ref in who.items():
        mem = member_of(inc, archive)
        if mem is not None:
            # "file (symbol)": keep the file.
            ref_file = re.sub(r"\s*\([^()]*\)\s*$", "", ref)
            out[mem] = (ref_file, ref)
    return out


def parse_sections(lines, headers=None):
    """Yields (output_section, input_section_name, size, file) for every kept input section;
    fills `headers` (output section -> size) when given."""
    if headers is None:
        headers = {}
    i = 0
    n = len(lines)
    while i < n and not lines[i].startswith("Linker script and memory map"):
        i += 1
    if i == n:
        raise ValueError("no 'Linker script and memory map' in the map")
    out_sec = None
    pending_out = None
    pending_in = None
    for line in lines[i + 1:]:
        if not line.strip():
            continue
        if line.startswith(("LOAD ", "START GROUP", "END GROUP", "OUTPUT(", "Cross Reference")):
            pending_out = pending_in = None
            continue
        if pending_out is not None:
            m = re.match(rf"^\s+({HEX})\s+({HEX})", line)
            if m:
                out_sec = pending_out
                headers[out_sec] = int(m.group(2), 16)
                pending_out = None
                continue
            out_sec = pending_out  # a header without address/size (empty section)
            pending_out = None
        if not line[0].isspace():
            m = RE_OUT_FULL.match(line)
            if m and (m.group(1).startswith(".") or m.group(1) == "/DISCARD/"):
                out_sec = m.group(1)
                headers[out_sec] = int(m.group(3), 16)
                pending_in = None
                continue
            m = RE_OUT_NAME.match(line)
            if m:
                pending_out = m.group(1)
                pending_in = None
                continue
            # Other column-0 lines (assignments such as "__stack_size = 0x4000") end nothing.
            continue
        if pending_in is not None:
            m = RE_CONT.match(line)
            if m:
                yield out_sec, pending_in, int(m.group(2), 16), m.group(3)
                pending_in = None
                continue
            pending_in = None
        m = RE_IN_FULL.match(line)
        if m and not m.group(1).startswith("*"):
            yield out_sec, m.group(1), int(m.group(3), 16), m.group(4)
            continue
        m = RE_IN_NAME.match(line)
        if m and not m.group(1).startswith("*") and (m.group(1).startswith(".") or m.group(1) == "COMMON"):
            pending_in = m.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("map")
    ap.add_argument("--archive", default="libtern.a")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    with open(args.map, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()

    included = parse_inclusions(lines, args.archive)
    lib = defaultdict(int)
    cb_lib = defaultdict(int)
    cb_app = defaultdict(int)
    per_member = defaultdict(int)
    biggest = []
    cb_rows = []
    image = defaultdict(int)
    headers = {}
    seen = 0
    for out_sec, name, size, path in parse_sections(lines, headers):
        if out_sec is None or out_sec == "/DISCARD/" or NON_ALLOC.match(out_sec):
            continue
        cat = OUTPUT_CATEGORY.get(out_sec)
        member = member_of(path, args.archive)
        if cat is None:
            if size == 0:
                continue
            print(f"mapsize: unknown allocated output section {out_sec} (input {name} from {path})",
                  file=sys.stderr)
            sys.exit(2)
        image[out_sec] += size
        if member is None or size == 0:
            continue
        seen += 1
        if is_builtins(member):
            ref = included.get(member)
            ref_file = ref[0] if ref else ""
            by_library = member_of(ref_file, args.archive) is not None if ref else True
            (cb_lib if by_library else cb_app)[cat] += size
            cb_rows.append((size, cat, name, "library" if by_library else "application", ref[1] if ref else "?"))
        else:
            lib[cat] += size
            crate = member.split("-", 1)[0]
            per_member[crate] += size
            biggest.append((size, cat, name))

    # Cross-check: the input sections of each output section must add up to its size, give
    # or take alignment padding and merged duplicate strings. A parser that misses lines
    # fails here instead of under-reporting.
    for sec, total_in in image.items():
        size = headers.get(sec)
        if size is None or abs(size - total_in) > max(256, size // 50):
            print(f"mapsize: {sec}: input sections add up to {total_in} but the section is {size}",
                  file=sys.stderr)
            sys.exit(2)

    if seen == 0 or lib["text"] == 0:
        print(f"mapsize: found no input sections from {args.archive} in {args.map}", file=sys.stderr)
        sys.exit(2)

    total = {c: lib[c] + cb_lib[c] for c in CATEGORIES}
    for c in CATEGORIES:
        print(f"{c}={total[c]}")
        print(f"lib_{c}={lib[c]}")
        print(f"builtins_{c}={cb_lib[c]}")
        print(f"builtins_app_{c}={cb_app[c]}")
    print("#")
    print("# bytes from the archive by crate object (compiler-builtins apart):")
    for crate, size in sorted(per_member.items(), key=lambda kv: -kv[1]):
        print(f"#   {crate:<24} {size:7d}")
    print(f"#   {'compiler-builtins':<24} {sum(cb_lib.values()):7d}  (pulled by the library, counted)")
    print(f"#   {'compiler-builtins':<24} {sum(cb_app.values()):7d}  (pulled by the application, not counted)")
    print("#")
    print("# compiler-builtins sections kept (size, category, section, pulled by):")
    for size, cat, name, owner, ref in sorted(cb_rows, reverse=True):
        if size:
            print(f"#   {size:6d} {cat:<6} {name[:70]:<70} {owner}")
    print("#")
    print(f"# largest {args.top} library input sections:")
    for size, cat, name in sorted(biggest, reverse=True)[: args.top]:
        print(f"#   {size:6d} {cat:<6} {name[:110]}")


if __name__ == "__main__":
    main()
