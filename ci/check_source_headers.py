#!/usr/bin/env python3
"""Fails when a Rust source file of the workspace does not open with a `//!` line saying what
it owns (house style: every file starts with one). Attributes such as `#![allow(...)]` may not
come first: the doc line is the first thing a reader sees.

    python3 ci/check_source_headers.py
    python3 ci/check_source_headers.py --self-test
"""

from __future__ import annotations

import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rust_files(root: Path) -> list[Path]:
    workspace = tomllib.loads((root / "Cargo.toml").read_text())
    files: list[Path] = []
    for member in workspace["workspace"]["members"]:
        files.extend(
            p for p in sorted((root / member).rglob("*.rs")) if "target" not in p.parts
        )
    return files


def opens_with_doc(path: Path) -> bool:
    for line in path.read_text().splitlines():
        if line.strip():
            return line.startswith("//!")
    return False


def self_test() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        good, bad, empty = (Path(tmp) / name for name in ("good.rs", "bad.rs", "empty.rs"))
        good.write_text("\n//! What this file owns.\nfn f() {}\n")
        bad.write_text("#![allow(dead_code)]\n//! Too late.\n")
        empty.write_text("")
        assert opens_with_doc(good)
        assert not opens_with_doc(bad)
        assert not opens_with_doc(empty)
    print("source header check: self-test passed")
    return 0


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    files = rust_files(ROOT)
    missing = [p.relative_to(ROOT) for p in files if not opens_with_doc(p)]
    for path in missing:
        print(f"{path}: does not open with a //! line")
    if missing:
        print(f"source header check: {len(missing)} of {len(files)} files lack one")
        return 1
    print(f"source header check: all {len(files)} Rust files open with a //! line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
