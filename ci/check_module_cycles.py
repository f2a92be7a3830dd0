#!/usr/bin/env python3
"""Fails when the source files of any crate import each other in a loop.

Each `.rs` file under a crate's `src/` is one module. A file depends on another when it names a
path into it: `crate::a::b`, `super::x`, `self::x`, or a child module declared with `mod`, in a
`use` or inline. A path to an item re-exported by the crate root counts as a dependency on the
root, so a child that names `crate::Thing` while the root re-exports it from that child is a
loop too. Test modules inside a file (`mod tests`) belong to their file; `tests/` and `benches/`
are not checked (they sit on top of the crate and import nothing back).

    python3 ci/check_module_cycles.py            # every crate of the workspace
    python3 ci/check_module_cycles.py --self-test

Why our own script: the loops that matter are between files of one crate, which neither
`cargo tree` (crates) nor clippy (items) reports.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
PATH_RE = re.compile(rf"\b((?:crate|super|self)(?:\s*::\s*{IDENT})+)")
MOD_RE = re.compile(rf"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+({IDENT})\s*;", re.M)
USE_RE = re.compile(r"\buse\s+([^;]+);", re.S)


def strip_comments_and_strings(text: str) -> str:
    """Removes comments, string and char literals (roughly, but never a real path)."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    text = re.sub(r"'(?:\\.|[^'\\])'", "' '", text)
    return text


def strip_inline_test_modules(text: str) -> str:
    """Drops `#[cfg(test)] mod x { ... }` blocks: their `super::` is the file itself."""
    out, pos = [], 0
    for m in re.finditer(rf"#\[cfg\(test\)\]\s*mod\s+{IDENT}\s*\{{", text):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out.append(text[pos : m.start()])
        pos = i
    out.append(text[pos:])
    return "".join(out)


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts in (["lib"], ["main"]):
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def expand_use_tree(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` -> [`a::b`, `a::c::d`, `a::c::e`]."""
    tree = re.sub(rf"\s+as\s+{IDENT}", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out: list[str] = []

    def walk(prefix: str, part: str) -> None:
        brace = part.find("{")
        if brace < 0:
            out.append(prefix + part)
            return
        head, body = part[:brace], part[brace + 1 : part.rfind("}")]
        depth, start = 0, 0
        for i, ch in enumerate(body + ","):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                item = body[start:i]
                if item:
                    walk(prefix + head, item)
                start = i + 1

    walk("", tree)
    return out


def resolve(path: list[str], here: tuple[str, ...], modules: set[tuple[str, ...]]):
    """The module a path points into, or None when it leaves the crate."""
    if not path:
        return None
    first, rest = path[0], path[1:]
    if first == "crate":
        base: tuple[str, ...] = ()
    elif first == "self":
        base = here
    elif first == "super":
        base = here[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    elif here + (first,) in modules:
        base, rest = here + (first,), rest
    else:
        return None
    target = base
    for segment in rest:
        if target + (segment,) in modules:
            target = target + (segment,)
        else:
            break
    return target


def dependencies(src: Path) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    files = sorted(p for p in src.rglob("*.rs"))
    modules = {module_of(src, f) for f in files}
    graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for file in files:
        here = module_of(src, file)
        text = strip_inline_test_modules(strip_comments_and_strings(file.read_text()))
        paths: list[str] = []
        for use in USE_RE.findall(text):
            paths.extend(expand_use_tree(use))
        paths.extend(re.sub(r"\s+", "", m) for m in PATH_RE.findall(text))
        for child in MOD_RE.findall(text):
            for m in re.finditer(rf"\b{child}\s*::\s*{IDENT}", text):
                paths.append(re.sub(r"\s+", "", m.group(0)))
        edges = graph.setdefault(here, set())
        for path in paths:
            target = resolve(path.split("::"), here, modules)
            if target is not None and target != here:
                edges.add(target)
    return graph


def cycles(graph: dict[tuple[str, ...], set[tuple[str, ...]]]) -> list[list[tuple[str, ...]]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on_stack: set = set()
    found: list = []
    counter = [0]

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def name(module: tuple[str, ...]) -> str:
    return "::".join(("crate",) + module)


def crates() -> list[Path]:
    members = re.search(r"members\s*=\s*\[([^\]]*)\]", (ROOT / "Cargo.toml").read_text())
    assert members, "no workspace members in Cargo.toml"
    return [ROOT / m.strip().strip('"') for m in members.group(1).split(",") if m.strip()]


def self_test() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        (src / "a").mkdir(parents=True)
        (src / "lib.rs").write_text("//! root\nmod a;\nmod b;\n")
        (src / "a" / "mod.rs").write_text("//! a\nmod c;\nuse self::c::Thing;\n")
        (src / "a" / "c.rs").write_text("//! c\nuse super::Other;\npub struct Thing;\n")
        (src / "b.rs").write_text("//! b\n// crate::a is only named in a comment\n")
        found = cycles(dependencies(src))
        assert found == [[("a",), ("a", "c")]], found
        (src / "a" / "c.rs").write_text("//! c\nuse crate::b::Other;\npub struct Thing;\n")
        assert cycles(dependencies(src)) == [], "a one-way import is not a loop"
        (src / "b.rs").write_text(
            "//! b\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::a::c::Thing;\n}\n"
        )
        assert cycles(dependencies(src)) == [], "a file's own tests import nothing for it"
        (src / "b.rs").write_text("//! b\nfn f() { crate::a::c::make(); }\n")
        found = cycles(dependencies(src))
        assert found == [[("a", "c"), ("b",)]], found
    assert expand_use_tree("crate::{a, b::{c, d as e}}") == ["crate::a", "crate::b::c", "crate::b::d"]
    print("module cycle check: self-test passed")
    return 0


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    failures = 0
    for crate in crates():
        src = crate / "src"
        if not src.is_dir():
            continue
        for component in cycles(dependencies(src)):
            failures += 1
            print(f"{crate.name}: import loop between " + ", ".join(name(m) for m in component))
    if failures:
        print(f"module cycle check: {failures} loop(s)")
        return 1
    print(f"module cycle check: no import loop in {len(crates())} crates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
