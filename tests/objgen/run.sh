#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Tests tools/lwm2m-objgen against the OMA object definitions in ../shared/lwm2m-registry
# (relative to the repository root; skipped, with exit status 0, when that folder is absent).
#
# For every XML there (and two small synthetic objects written here): generate the .c/.h,
# compile the .c with cc -std=c99 -pedantic -Wall -Wextra -Werror, link it with
# tests/objgen/check.c and target/release/libtern.a, and run that: it prints the compiled
# table and definition, calls every handler stub, and registers the object on a fresh client
# with tern_client_add_object. The output is compared with the XML (row count, ids, types,
# operations, multiple, version, which handlers exist, NOT_FOUND for unknown resources, the
# TODO status for known ones) and the library must accept the object (TERN_STATUS_OK;
# 3303 is reported by name) -- or refuse it for objects 0, 1 and 3, which the tool itself
# generates only with --reference-only, and for 4, 5, 6 and 7, which the default build has. Then bad inputs written to a temporary directory
# must be refused with an error message, exit status 1, no traceback and no output.
#
# Last line: "objgen: N objects generated and compiled, M bad inputs refused"; the exit
# status is non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

registry=$root/../shared/lwm2m-registry
if [ ! -d "$registry" ]; then
	echo "objgen: SKIPPED: $registry not found (no OMA object definitions to test with)"
	exit 0
fi

tool=$root/tools/lwm2m-objgen
cflags=(-std=c99 -pedantic -Wall -Wextra -Werror -Iinclude)
lib=${CARGO_TARGET_DIR:-$root/target}/release/libtern.a
max_files=500

tmp=$(mktemp -d "${TMPDIR:-/tmp}/objgen-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

failures=0
generated=0
refused=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

if [ ! -f "$lib" ]; then
	echo "objgen: building $lib"
	cargo rustc --release --quiet --lib --crate-type staticlib || { echo "objgen: cargo build failed"; echo "objgen: 0 objects generated and compiled, 0 bad inputs refused"; exit 1; }
fi

# compare XML DUMP VALUES: checks check.c's output against the XML (python, standard
# library); VALUES is 1 for code generated with --values.
compare() {
	python3 - "$1" "$2" "$root/include/tern.h" "$3" <<'PY'
import re, sys
import xml.etree.ElementTree as ET

xml_path, dump_path, header, values = sys.argv[1:5]
values = values == "1"
h = open(header).read()
status = {m[0]: int(m[1]) for m in re.findall(r"TERN_STATUS_(\w+) = (-?\d+)", h)}
ctype = {m[0]: int(m[1]) for m in re.findall(r"TERN_TYPE_(\w+) = (\d+)", h)}
op = {m[0]: int(m[1]) for m in re.findall(r"#define TERN_OP_(\w+) (\d+)", h)}
TYPES = {"": "NONE", "String": "STRING", "Integer": "INTEGER", "Unsigned Integer": "UNSIGNED",
         "Float": "FLOAT", "Boolean": "BOOLEAN", "Opaque": "OPAQUE", "Time": "TIME",
         "Objlnk": "OBJLNK", "Corelnk": "CORELNK"}
OPS = {"": 0, "R": op["R"], "W": op["W"], "RW": op["R"] | op["W"], "E": op["E"]}

def strip(tag):
    return tag.rsplit("}", 1)[-1]

root = ET.parse(xml_path).getroot()
for e in root.iter():
    e.tag = strip(e.tag)
obj = root if root.tag == "Object" else root.find("Object")
t = lambda e, n: (e.findtext(n) or "").strip()
oid = int(t(obj, "ObjectID"))
ver = t(obj, "ObjectVersion") or "1.0"
major, minor = (int(x) for x in ver.split("."))
items = obj.findall("Resources/Item")
rows = [(int(i.get("ID")), ctype[TYPES[t(i, "Type")]], OPS[t(i, "Operations")],
         int(t(i, "MultipleInstances") == "Multiple")) for i in items]
multiple = t(obj, "MultipleInstances") == "Multiple"
# With --values, a single-instance readable or writable resource with a type has a variable
# (a value pointer; strings get a 64-byte buffer) and no handler code.
text = (ctype["STRING"], ctype["CORELNK"])
pointed = lambda r: values and not r[3] and r[1] != ctype["NONE"] and r[2] in (OPS["R"], OPS["W"], OPS["RW"])
any_op = lambda bit: int(any(r[2] & bit for r in rows if not pointed(r)))
expect = [f"object {oid} {major} {minor} {len(rows)} {any_op(op['R'])} {any_op(op['W'])} "
          f"{any_op(op['E'])} {int(multiple)} {int(multiple)}"]
handlers = [(n, op[b]) for n, b in (("read", "R"), ("write", "W"), ("execute", "E")) if any_op(op[b])]
todo, not_found = status["INTERNAL"], status["NOT_FOUND"]
for r in rows:
    rid, ty, ops, mult = r
    expect.append(f"row {rid} {ty} {ops} {mult}")
    if pointed(r):
        expect.append(f"value {rid} {64 if ty in text else 0}")
    expect += [f"call {n} {rid} {not_found if pointed(r) or not ops & bit else todo}" for n, bit in handlers]
ids = {r[0] for r in rows}
unknown = next(i for i in range(65535) if i not in ids)
expect.append(f"unknown {unknown}")
expect += [f"call {n} {unknown} {not_found}" for n, _ in handlers]
if multiple:
    expect += [f"instance create {todo}", f"instance delete {todo}"]
# 4, 5, 6 and 7 are built into the default build too (features connectivity-monitoring,
# firmware-update, location, connectivity-statistics): the tool generates them, the library
# refuses them.
expect.append(f"add {status['INVALID_ARG'] if oid in (0, 1, 3, 4, 5, 6, 7) else status['OK']}")
got = open(dump_path).read().split("\n")[:-1]
if got != expect:
    for n in range(max(len(got), len(expect))):
        g = got[n] if n < len(got) else "<none>"
        x = expect[n] if n < len(expect) else "<none>"
        if g != x:
            print(f"  line {n + 1}: got {g!r}, expected {x!r}")
            break
    sys.exit(1)
print(f"{len(rows)} rows")
PY
}

# generate_and_check XML LABEL [--values]: generates, compiles, checks; counts one object.
generate_and_check() {
	local xml=$1 label=$2 values=${3:-} out oid flags=() c base dump rows
	out=$(mktemp -d "$tmp/gen.XXXXXX")
	oid=$(python3 -c 'import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
print(next((e.text or "").strip() for e in r.iter() if e.tag.rsplit("}", 1)[-1] == "ObjectID"))' "$xml" 2>/dev/null)
	case "$oid" in
	0 | 1 | 3)
		# The library's own objects: refused unless --reference-only.
		if timeout 60 "$tool" -q -o "$out" "$xml" >"$tmp/stdout" 2>"$tmp/stderr"; then
			fail "$label: object $oid generated without --reference-only"
			return
		fi
		if ! grep -q -- "--reference-only" "$tmp/stderr" || [ -n "$(ls -A "$out")" ]; then
			fail "$label: object $oid refused without a clear message, or with output: $(cat "$tmp/stderr")"
			return
		fi
		flags=(--reference-only)
		;;
	esac
	[ -n "$values" ] && flags+=(--values)
	if ! timeout 60 "$tool" -q "${flags[@]}" -o "$out" "$xml" 2>"$tmp/stderr"; then
		fail "$label: generation failed: $(cat "$tmp/stderr")"
		return
	fi
	c=$(ls "$out"/*.c 2>/dev/null)
	if [ "$(echo "$c" | wc -w)" -ne 1 ] || [ ! -f "${c%.c}.h" ]; then
		fail "$label: expected one .c and its .h in $out, got: $(ls "$out")"
		return
	fi
	base=$(basename "$c" .c)
	if ! cc "${cflags[@]}" -c "$c" -o "$out/$base.o"; then
		fail "$label: $base.c does not compile cleanly"
		return
	fi
	if command -v g++ >/dev/null && ! g++ -std=c++11 -pedantic -Wall -Wextra -Werror -Iinclude -fsyntax-only -x c++ "${c%.c}.h"; then
		fail "$label: $base.h is not valid C++11"
		return
	fi
	if ! cc "${cflags[@]}" -I"$out" -DOBJGEN_HEADER="\"$base.h\"" -DOBJGEN_DEF="${base}_object" \
		-o "$out/check" tests/objgen/check.c "$out/$base.o" "$lib"; then
		fail "$label: check program does not build"
		return
	fi
	dump=$out/dump
	if ! timeout 20 "$out/check" >"$dump"; then
		fail "$label: check program failed: $(tail -n 3 "$dump")"
		return
	fi
	if ! rows=$(compare "$xml" "$dump" "$([ -n "$values" ] && echo 1 || echo 0)"); then
		fail "$label: compiled table differs from the XML:"
		echo "$rows"
		return
	fi
	generated=$((generated + 1))
	local note=""
	[ "${flags[0]:-}" = --reference-only ] && note=", refused without --reference-only, tern_client_add_object refuses it too"
	[ "$oid" = 3303 ] && note=", tern_client_add_object(&${base}_object) = TERN_STATUS_OK"
	echo "ok: $label: object $oid -> $base.c, $rows$note"
}

n=0
for xml in "$registry"/*.xml; do
	[ -f "$xml" ] || continue
	n=$((n + 1))
	if [ "$n" -gt "$max_files" ]; then
		fail "more than $max_files XML files in $registry"
		break
	fi
	generate_and_check "$xml" "$(basename "$xml")"
done
[ "$n" -gt 0 ] || fail "no XML files in $registry"

# Synthetic objects for what the registry files lack: Corelnk, a write-only resource, a
# default namespace, no ObjectVersion (1.0), a single-instance object, a name that starts
# with a digit, and an object without resources.
mkdir -p "$tmp/good"
cat >"$tmp/good/edge.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<LWM2M xmlns="urn:example:objgen-test">
  <Object ObjectType="MODefinition">
    <Name>9 Edge/Cases</Name>
    <ObjectID>32000</ObjectID>
    <MultipleInstances>Single</MultipleInstances>
    <Resources>
      <Item ID="0"><Name>Links</Name><Operations>R</Operations><MultipleInstances>Multiple</MultipleInstances><Type>Corelnk</Type></Item>
      <Item ID="65534"><Name>Secret */ ??/</Name><Operations>W</Operations><MultipleInstances>Single</MultipleInstances><Type>Opaque</Type></Item>
      <Item ID="7"><Name>Hidden</Name><Operations></Operations><MultipleInstances>Single</MultipleInstances><Type>Unsigned Integer</Type></Item>
      <Item ID="8"><Name>Go</Name><Operations>E</Operations><MultipleInstances>Single</MultipleInstances><Type></Type></Item>
    </Resources>
  </Object>
</LWM2M>
EOF
cat >"$tmp/good/empty.xml" <<'EOF'
<LWM2M><Object><Name>Empty</Name><ObjectID>32001</ObjectID><ObjectVersion>2.3</ObjectVersion>
<MultipleInstances>Multiple</MultipleInstances><Resources/></Object></LWM2M>
EOF
generate_and_check "$tmp/good/edge.xml" "synthetic edge.xml"
generate_and_check "$tmp/good/empty.xml" "synthetic empty.xml"

# --values: the same objects, plus one with every value type, with variables (value
# pointers) for the plain single-instance values; the library must take each definition.
cat >"$tmp/good/values.xml" <<'EOF'
<LWM2M><Object><Name>Plain Values</Name><ObjectID>32002</ObjectID><MultipleInstances>Single</MultipleInstances><Resources>
<Item ID="0"><Name>Count</Name><Operations>RW</Operations><MultipleInstances>Single</MultipleInstances><Type>Integer</Type></Item>
<Item ID="1"><Name>Total</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances><Type>Unsigned Integer</Type></Item>
<Item ID="2"><Name>Level</Name><Operations>RW</Operations><MultipleInstances>Single</MultipleInstances><Type>Float</Type></Item>
<Item ID="3"><Name>On</Name><Operations>W</Operations><MultipleInstances>Single</MultipleInstances><Type>Boolean</Type></Item>
<Item ID="4"><Name>When</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances><Type>Time</Type></Item>
<Item ID="5"><Name>Label</Name><Operations>RW</Operations><MultipleInstances>Single</MultipleInstances><Type>String</Type></Item>
<Item ID="6"><Name>Key</Name><Operations>RW</Operations><MultipleInstances>Single</MultipleInstances><Type>Opaque</Type></Item>
<Item ID="7"><Name>Peer</Name><Operations>RW</Operations><MultipleInstances>Single</MultipleInstances><Type>Objlnk</Type></Item>
<Item ID="8"><Name>Links</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances><Type>Corelnk</Type></Item>
<Item ID="9"><Name>History</Name><Operations>R</Operations><MultipleInstances>Multiple</MultipleInstances><Type>Integer</Type></Item>
</Resources></Object></LWM2M>
EOF
n=0
for xml in "$registry"/*.xml "$tmp/good/edge.xml" "$tmp/good/empty.xml" "$tmp/good/values.xml"; do
	[ -f "$xml" ] || continue
	n=$((n + 1))
	[ "$n" -gt "$max_files" ] && break
	generate_and_check "$xml" "$(basename "$xml") --values" --values
done
# The variables are the application's: it sets them by name, and the rows point at them.
out=$tmp/values-3303
if [ -f "$registry/3303.xml" ] && mkdir -p "$out" && timeout 60 "$tool" -q --values -o "$out" "$registry/3303.xml"; then
	cat >"$out/use.c" <<'EOF'
#include <string.h>
#include "temperature.h"
int main(void)
{
	size_t i, found = 0;
	temperature_5700_sensor_value = 21.5;
	strcpy(temperature_5701_sensor_units, "Cel");
	for (i = 0; i < temperature_object.resource_count; i++) {
		const tern_resource_def_t *r = &temperature_object.resources[i];
		found += r->id == 5700 && r->value == &temperature_5700_sensor_value && *(double *)r->value == 21.5;
		found += r->id == 5701 && r->value == temperature_5701_sensor_units && r->value_size == 64;
	}
	return found == 2 && temperature_object.read == NULL ? 0 : 1;
}
EOF
	if cc "${cflags[@]}" -I"$out" -o "$out/use" "$out/use.c" "$out/temperature.c" "$lib" && "$out/use"; then
		echo "ok: 3303 --values: the application sets temperature_5700_sensor_value and the row points at it"
	else
		fail "3303 --values: the generated variables do not link or the rows do not point at them"
	fi
elif [ -f "$registry/3303.xml" ]; then
	fail "3303 --values: generation failed"
fi

# Bad inputs: each must give exit status 1, "lwm2m-objgen: error:" and no traceback or output.
mkdir -p "$tmp/bad"
item() { # item ID TYPE OPERATIONS
	printf '<Item ID="%s"><Name>R</Name><Operations>%s</Operations><MultipleInstances>Single</MultipleInstances><Type>%s</Type></Item>' "$1" "$3" "$2"
}
object() { # object OBJECTID VERSION ITEMS...
	local id=$1 ver=$2
	shift 2
	printf '<LWM2M><Object><Name>Bad</Name>%s%s<MultipleInstances>Single</MultipleInstances><Resources>%s</Resources></Object></LWM2M>\n' \
		"$id" "$ver" "$*"
}
object '<ObjectID>33000</ObjectID>' '' "$(item 1 Integer R)" | head -c 60 >"$tmp/bad/malformed.xml"
object '' '' "$(item 1 Integer R)" >"$tmp/bad/no-objectid.xml"
object '<ObjectID></ObjectID>' '' "$(item 1 Integer R)" >"$tmp/bad/empty-objectid.xml"
object '<ObjectID>abc</ObjectID>' '' "$(item 1 Integer R)" >"$tmp/bad/objectid-text.xml"
object '<ObjectID>65535</ObjectID>' '' "$(item 1 Integer R)" >"$tmp/bad/objectid-range.xml"
object '<ObjectID>33000</ObjectID>' '' "$(item 65535 Integer R)" >"$tmp/bad/resource-range.xml"
object '<ObjectID>33000</ObjectID>' '' "$(item -1 Integer R)" >"$tmp/bad/resource-negative.xml"
object '<ObjectID>33000</ObjectID>' '' "$(item 1 Double R)" >"$tmp/bad/unknown-type.xml"
object '<ObjectID>33000</ObjectID>' '' "$(item 1 Integer RWX)" >"$tmp/bad/unknown-operations.xml"
object '<ObjectID>33000</ObjectID>' '' "$(item 1 '' R)" >"$tmp/bad/readable-without-type.xml"
object '<ObjectID>33000</ObjectID>' '' "$(item 1 Integer R)$(item 1 String W)" >"$tmp/bad/duplicate-id.xml"
object '<ObjectID>33000</ObjectID>' '<ObjectVersion>1.x</ObjectVersion>' "$(item 1 Integer R)" >"$tmp/bad/bad-version.xml"
object '<ObjectID>1</ObjectID>' '' "$(item 1 Integer R)" >"$tmp/bad/reserved-object.xml"
echo '<html><body/></html>' >"$tmp/bad/not-lwm2m.xml"
: >"$tmp/bad/empty-file.xml"

# refuse LABEL ARGS...: the tool must refuse.
refuse() {
	local label=$1 out rc
	shift
	out=$(mktemp -d "$tmp/out.XXXXXX")
	timeout 60 "$tool" -o "$out" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		fail "bad input $label: exit status $rc, expected 1 ($(cat "$tmp/stderr"))"
	elif ! grep -q "^lwm2m-objgen: error: " "$tmp/stderr" || grep -q "Traceback" "$tmp/stderr"; then
		fail "bad input $label: no clean error message: $(cat "$tmp/stderr")"
	elif [ -n "$(ls -A "$out")" ]; then
		fail "bad input $label: files written: $(ls "$out")"
	else
		refused=$((refused + 1))
		echo "ok: refused $label: $(head -n 1 "$tmp/stderr")"
	fi
}
for f in "$tmp"/bad/*.xml; do
	refuse "$(basename "$f")" "$f"
done
refuse "missing file" "$tmp/bad/does-not-exist.xml"
refuse "--prefix not a C identifier" --prefix 9lives "$tmp/good/edge.xml"
refuse "--prefix in the library's namespace" --prefix tern_thing "$tmp/good/edge.xml"
refuse "two objects, one file name" "$tmp/good/edge.xml" "$tmp/good/edge.xml"
refuse "one good file, one bad (nothing written)" "$tmp/good/edge.xml" "$tmp/bad/unknown-type.xml"

# Usage errors: status 2 and the usage message.
timeout 60 "$tool" >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "^usage: lwm2m-objgen" "$tmp/stderr"; then
	refused=$((refused + 1))
	echo "ok: refused no arguments: usage message, status 2"
else
	fail "no arguments: status $rc, stderr: $(cat "$tmp/stderr")"
fi

echo "objgen: $generated objects generated and compiled, $refused bad inputs refused"
if [ "$failures" -ne 0 ]; then
	echo "objgen: $failures FAILED"
	exit 1
fi
exit 0
