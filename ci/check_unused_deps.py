#!/usr/bin/env python3
"""Fails when a crate of the workspace declares a dependency none of its code names.

The same rule as cargo-machete, without installing it (and its build) on every fresh machine: a
dependency is used when its crate name (`-` read as `_`) appears as a path in any `.rs` file of
the package (`src/`, `tests/`, `benches/`, `build.rs`): `name::...`, `use name`, `name!`,
`extern crate name`. A dependency needed without being named (one that only turns on a feature
of another) is listed, with its reason, under `[package.metadata.cargo-machete] ignored`.

    python3 ci/check_unused_deps.py
    python3 ci/check_unused_deps.py --self-test
"""

from __future__ import annotations

import re
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("dependencies", "dev-dependencies", "build-dependencies")


def members() -> list[Path]:
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())
    return [ROOT / member for member in workspace["workspace"]["members"]]


def sources(package: Path) -> str:
    files = [p for p in package.rglob("*.rs") if "target" not in p.parts]
    text = "\n".join(p.read_text() for p in files)
    # Comments name crates without using them.
    return re.sub(r"//[^\n]*", "", text)


def unused(package: Path) -> list[str]:
    manifest = tomllib.loads((package / "Cargo.toml").read_text())
    ignored = set(
        manifest.get("package", {})
        .get("metadata", {})
        .get("cargo-machete", {})
        .get("ignored", [])
    )
    code = sources(package)
    found = []
    for section in SECTIONS:
        for name, spec in manifest.get(section, {}).items():
            crate = name
            if isinstance(spec, dict) and "package" in spec:
                crate = name  # renamed: the code uses the key
            ident = crate.replace("-", "_")
            if name in ignored:
                continue
            pattern = rf"(?<![A-Za-z0-9_])(?:{ident}\s*::|use\s+{ident}\b|{ident}\s*!|extern\s+crate\s+{ident}\b)"
            if not re.search(pattern, code):
                found.append(f"{section}.{name}")
    return found


def self_test() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp)
        (package / "src").mkdir()
        (package / "Cargo.toml").write_text(
            '[package]\nname = "x"\n[package.metadata.cargo-machete]\nignored = ["feature-only"]\n'
            '[dependencies]\nserde = "1"\nuuid = "1"\nfeature-only = "1"\ntokio-postgres = "0.7"\n'
            '[dev-dependencies]\nproptest = "1"\n'
        )
        (package / "src" / "lib.rs").write_text(
            "//! uuid:: in a comment does not count\nuse serde::Serialize;\n"
            "fn f() { tokio_postgres::connect(); }\n"
        )
        assert unused(package) == ["dependencies.uuid", "dev-dependencies.proptest"], unused(package)
    print("unused dependency check: self-test passed")
    return 0


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    problems = []
    for package in members():
        for dependency in unused(package):
            problems.append(f"{package.name}: {dependency} is never used")
    for problem in problems:
        print(problem)
    if problems:
        print(f"unused dependency check: {len(problems)} unused")
        return 1
    print(f"unused dependency check: every dependency of {len(members())} crates is used")
    return 0


if __name__ == "__main__":
    sys.exit(main())
