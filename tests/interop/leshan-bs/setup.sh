#!/usr/bin/env bash
# Builds the Leshan bootstrap scenario (Maven): target/tern-leshan-bootstrap.jar plus every
# runtime dependency in target/deps, so that run.sh needs no network afterwards.
# Idempotent: does nothing when the sources have not changed since the last build.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"

command -v mvn >/dev/null || { echo "setup.sh: mvn not found (install maven and a JDK >= 17)" >&2; exit 1; }
command -v java >/dev/null || { echo "setup.sh: java not found (install a JDK >= 17)" >&2; exit 1; }

stamp=target/.build-stamp
want=$(cat pom.xml $(find src -type f -name '*.java' | LC_ALL=C sort) | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && [ -f target/tern-leshan-bootstrap.jar ] && [ -d target/deps ]; then
    exit 0
fi

echo "setup.sh: building the Leshan bootstrap scenario (first run resolves from Maven Central)" >&2
rm -rf target
mvn -q -B ${MVN_ARGS:-} package >&2
echo "$want" > "$stamp"
