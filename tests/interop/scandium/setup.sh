#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Builds the Scandium echo server (Maven): target/tern-scandium-echo.jar plus every runtime
# dependency in target/deps, so that the test needs no network afterwards. Idempotent: does
# nothing when the sources have not changed since the last build. Bounded (10 minutes).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"

command -v mvn >/dev/null || { echo "setup.sh: mvn not found (install maven and a JDK >= 17)" >&2; exit 1; }
command -v java >/dev/null || { echo "setup.sh: java not found (install a JDK >= 17)" >&2; exit 1; }

stamp=target/.build-stamp
want=$(cat pom.xml $(find src -type f -name '*.java' | LC_ALL=C sort) | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && [ -f target/tern-scandium-echo.jar ] && [ -d target/deps ]; then
    exit 0
fi

echo "setup.sh: building the Scandium echo server (first run resolves from Maven Central)" >&2
rm -rf target
timeout 600 mvn -q -B ${MVN_ARGS:-} package >&2
echo "$want" > "$stamp"
