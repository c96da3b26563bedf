#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# What CI can check of the Zephyr module without a Zephyr tree:
# 1. module.yml names files that exist;
# 2. every CONFIG_TERN_* symbol the CMake, the glue and the sample use is defined in a
#    Kconfig file; the capacities in Kconfig have build.rs's names, defaults and ranges, and
#    the Cargo features CMake passes are exactly Cargo.toml's (each with its Kconfig bool);
# 3. the glue and the sample compile with -Wall -Wextra -Werror against the real
#    include/tern.h, with the Zephyr APIs taken from the test-only stand-in header
#    zephyr/tests/zephyr_standin.h (compiled, never linked or run), in a minimal and in a
#    full configuration.
# Only a build against a real Zephyr tree (build-sample.sh) proves the glue against Zephyr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

echo "== module.yml and Kconfig consistency"
python3 - "$root" <<'EOF'
import pathlib, re, sys

root = pathlib.Path(sys.argv[1])
z = root / "zephyr"
errors = []

# 1. module.yml (flat YAML: read the keys this module uses).
yml = (z / "module.yml").read_text()
def key(name):
    m = re.search(rf"^\s*{name}:\s*(\S+)\s*$", yml, re.M)
    return m.group(1) if m else None
if key("name") != "tern":
    errors.append("module.yml: name is not tern")
cmake, kconfig = key("cmake"), key("kconfig")
if cmake is None or not (root / cmake / "CMakeLists.txt").is_file():
    errors.append(f"module.yml: build.cmake {cmake!r} has no CMakeLists.txt")
if kconfig is None or not (root / kconfig).is_file():
    errors.append(f"module.yml: build.kconfig {kconfig!r} does not exist")
for sample in re.findall(r"^\s*-\s*(\S+)\s*$", yml.split("samples:", 1)[1] if "samples:" in yml else "", re.M):
    if not (root / sample).is_dir():
        errors.append(f"module.yml: sample folder {sample} does not exist")

# 2. Kconfig symbols: the module's and the sample's.
kconfig_files = [z / "Kconfig"] + sorted((z / "samples").glob("*/Kconfig"))
defined = {}
for f in kconfig_files:
    text = f.read_text()
    for m in re.finditer(r"^(?:menu)?config\s+(\w+)\n((?:[ \t]+.*\n|\n)*)", text, re.M):
        defined[m.group(1)] = m.group(2)
    # The log-level template defines TERN_LOG_LEVEL and TERN_LOG_LEVEL_{OFF,ERR,WRN,INF,DBG}.
    for m in re.finditer(r"^module\s*=\s*(\w+)\s*$", text, re.M):
        if 'source "subsys/logging/Kconfig.template.log_config"' not in text:
            errors.append(f"{f}: module = without the log-level template")
        for suffix in ["", "_OFF", "_ERR", "_WRN", "_INF", "_DBG"]:
            defined[f"{m.group(1)}_LOG_LEVEL{suffix}"] = ""

used = {}
sources = [z / "CMakeLists.txt"] + sorted(z.rglob("*.c")) + sorted(z.rglob("*.h")) + sorted(z.rglob("*.conf"))
for f in sources:
    if f.name == "zephyr_standin.h":
        continue
    for sym in re.findall(r"CONFIG_(TERN_\w+)", f.read_text()):
        used.setdefault(sym, f.relative_to(root))

cmake_text = (z / "CMakeLists.txt").read_text()
def cmake_list(name):
    m = re.search(rf"set\({name}\s+([^)]*)\)", cmake_text)
    return m.group(1).split() if m else []
capacities = cmake_list("tern_capacities")
features = cmake_list("tern_cargo_features")
for cap in capacities:
    used.setdefault(cap, "zephyr/CMakeLists.txt (tern_capacities)")
for feat in features:
    used.setdefault("TERN_" + feat.upper().replace("-", "_"), "zephyr/CMakeLists.txt (tern_cargo_features)")
for sym, where in sorted(used.items()):
    if sym not in defined:
        errors.append(f"CONFIG_{sym} (used in {where}) is not defined in any Kconfig")

# Capacities: build.rs's table against Kconfig and the CMake list.
build_rs = (root / "build.rs").read_text()
table = build_rs[build_rs.index("const CAPACITIES"):]
table = table[: table.index("];")]
caps = {m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(4)))
        for m in re.finditer(r'\(\s*"(\w+)",\s*(\d+),\s*(\d+),\s*(\d+),', table)}
if not caps:
    errors.append("build.rs: no CAPACITIES table found")
if set(caps) != set(capacities):
    errors.append(f"CMake tern_capacities {sorted(set(capacities) ^ set(caps))} differ from build.rs")
for name, (default, lo, hi) in caps.items():
    body = defined.get(name)
    if body is None:
        errors.append(f"capacity {name} has no Kconfig symbol")
        continue
    d = re.search(r"^\s*default\s+(\d+)\s*$", body, re.M)
    r = re.search(r"^\s*range\s+(\d+)\s+(\d+)\s*$", body, re.M)
    if not d or int(d.group(1)) != default:
        errors.append(f"Kconfig {name}: default differs from build.rs ({default})")
    if not r or (int(r.group(1)), int(r.group(2))) != (lo, hi):
        errors.append(f"Kconfig {name}: range differs from build.rs ({lo} {hi})")

# Features: Cargo.toml's, minus the umbrella and host-only ones.
manifest = (root / "Cargo.toml").read_text()
section = manifest.split("\n[features]\n", 1)[1].split("\n[", 1)[0]
cargo_features = set(re.findall(r"^([\w-]+)\s*=", section, re.M)) - {"default", "std", "records"}
if cargo_features != set(features):
    errors.append(f"CMake tern_cargo_features differ from Cargo.toml: {sorted(cargo_features ^ set(features))}")

for e in errors:
    print("error:", e)
print(f"{len(used)} Kconfig symbols used, {len(caps)} capacities, {len(features)} features checked")
sys.exit(1 if errors else 0)
EOF

echo "== the glue and the sample compile against include/tern.h (Zephyr APIs: test-only stand-ins)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Each <zephyr/...> header the sources include becomes an empty file: the declarations all
# come from the stand-in header, force-included first.
grep -h -o '<zephyr/[^>]*>' zephyr/src/*.c zephyr/samples/client/src/*.c | sort -u | tr -d '<>' |
	while read -r h; do mkdir -p "$tmp/inc/$(dirname "$h")" && : >"$tmp/inc/$h"; done
cc=${CC:-cc}
common=(-std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
	-include zephyr/tests/zephyr_standin.h -I"$tmp/inc" -Iinclude -Izephyr/include
	-DCONFIG_TERN=1 -DCONFIG_TERN_LOG_LEVEL=3 -DCONFIG_TERN_ZEPHYR_MAX_CONNECTIONS=3
	-DCONFIG_TERN_ZEPHYR_STACK_SIZE=4096 -DCONFIG_TERN_ZEPHYR_POLL_STACK_SIZE=1024
	-DCONFIG_TERN_ZEPHYR_PRIORITY=7)
full=(-DCONFIG_TERN_OBSERVE=1 -DCONFIG_TERN_C_CRITICAL_SECTION=1 -DCONFIG_TERN_ZEPHYR_TLS=1
	-DCONFIG_TERN_ZEPHYR_SEC_TAG_BASE=3500 -DCONFIG_TERN_ZEPHYR_DTLS_HANDSHAKE_TIMEOUT_MAX=8000 -DCONFIG_TERN_ZEPHYR_SETTINGS=1
	-DCONFIG_TERN_ZEPHYR_STATE_SIZE=512 -DCONFIG_TERN_ZEPHYR_SHELL=1 -DCONFIG_CSPRNG_ENABLED=1
	-DCONFIG_TERN_PLATFORM_CREDENTIALS=1)
sample=(-DCONFIG_TERN_SAMPLE_SERVER_URI='"coap://192.0.2.2:5683"' -DCONFIG_TERN_SAMPLE_ENDPOINT='"tern-zephyr"'
	-DCONFIG_TERN_SAMPLE_LIFETIME=60 -DCONFIG_TERN_SAMPLE_DEREGISTER_AFTER=0
	-DCONFIG_TERN_SAMPLE_PSK_IDENTITY='"tern-zephyr-psk"' -DCONFIG_TERN_SAMPLE_PSK='"000102030405060708090a0b0c0d0e0f"')
for config in minimal full; do
	extra=()
	[ "$config" = full ] && extra=("${full[@]}")
	for src in zephyr/src/tern_zephyr.c zephyr/samples/client/src/main.c zephyr/samples/client/src/temperature.c; do
		"$cc" "${common[@]}" "${extra[@]}" "${sample[@]}" -c -o "$tmp/out.o" "$src"
	done
	echo "compiled ($config configuration): tern_zephyr.c, samples/client/src/main.c, temperature.c"
done
# The sample's Stellaris RX workaround (qemu_cortex_m3), which does not depend on tern.
"$cc" "${common[@]}" -c -o "$tmp/out.o" zephyr/samples/client/src/stellaris_rx.c
echo "compiled: samples/client/src/stellaris_rx.c"
# And the sample without tern (CONFIG_TERN unset), the size baseline.
"$cc" -std=c11 -Wall -Wextra -Werror -include zephyr/tests/zephyr_standin.h -I"$tmp/inc" \
	-c -o "$tmp/out.o" zephyr/samples/client/src/main.c
echo "compiled (no tern): samples/client/src/main.c"
