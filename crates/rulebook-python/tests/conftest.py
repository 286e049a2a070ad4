"""Shared helpers: the repository, and the `rulebook` command the package
is compared with (built by `cargo test`; RULEBOOK_BIN overrides it)."""

import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]


def rulebook_bin() -> str:
    path = os.environ.get("RULEBOOK_BIN", str(REPO / "target" / "debug" / "rulebook"))
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: build it with `cargo build -p rulebook-cli` first")
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [rulebook_bin(), *args], cwd=REPO, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
    )
