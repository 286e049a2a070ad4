#!/usr/bin/env bash
# Builds the Python package into a virtual environment and runs its tests,
# the Spark example's included (Spark in local mode needs Java 17).
# VENV (default target/python-venv) is made on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${VENV:-$root/target/python-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-test.txt"
# The tests compare the package with the command, built like the Rust tests.
(cd "$root" && cargo build --quiet -p rulebook-cli)
# The dev profile, as `cargo test` builds: its dependencies are reused.
(cd "$here" && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop --quiet)
cd "$here"
RULEBOOK_REQUIRE_SPARK="${RULEBOOK_REQUIRE_SPARK:-1}" "$venv/bin/python" -m pytest -q -p no:cacheprovider tests
