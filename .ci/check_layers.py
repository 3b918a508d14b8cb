#!/usr/bin/env python3
"""The module graphs of rust_core/src and barter_ffi, and a check that neither has a cycle.

Rust: a folder or a file directly under rust_core/src is one module (the layers); an edge is a
`crate::` path, or a `super::` path that leaves the module, wherever it appears in code
(comments, strings and `#[cfg(test)]` items do not count: unit tests may reach anywhere). The
graph is checked twice: between the layers (depth 1), and between the files inside each layer
(depth 2: `parse/load`, `output/arrow`; a folder's mod.rs is the folder itself).

Python: each module of barter_ffi is one module; an edge is a relative or `barter_ffi.` import
anywhere in the module (inside functions too), except under `if TYPE_CHECKING:`.

Prints each module with the modules it imports, then the layers (each module sits one above the
highest module it imports), then any cycle. Exits 1 if there is a cycle. Standard library only,
so CI can run it before anything is built.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

Graph = dict[str, set[str]]

ROOT = Path(__file__).resolve().parent.parent


# Rust


def rust_code_only(text: str) -> str:
    """`text` with comments, string and char literals blanked (newlines kept)."""
    out: list[str] = []
    i, n = 0, len(text)

    def blank(segment: str) -> str:
        return "".join("\n" if ch == "\n" else " " for ch in segment)

    while i < n:
        ch = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            out.append(blank(text[i:end]))
            i = end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif (raw := re.match(r'b?r(#*)"', text[i:i + 300])) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            closing = '"' + raw.group(1)
            end = text.find(closing, i + raw.end())
            end = n if end == -1 else end + len(closing)
            out.append(blank(text[i:end]))
            i = end
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i:j + 1]))
            i = j + 1
        elif ch == "'":
            # A char literal ('x', '\n', '\u{..}') or a lifetime ('a): only a literal closes.
            literal = re.match(r"'(\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'", text[i:i + 12])
            if literal:
                out.append(blank(literal.group(0)))
                i += literal.end()
            else:
                out.append(ch)
                i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
ATTRIBUTE = re.compile(r"\s*#\s*\[")


def skip_balanced(code: str, start: int, opening: str, closing: str) -> int:
    """The index after the bracket that closes the one at `start`."""
    depth = 0
    for index in range(start, len(code)):
        if code[index] == opening:
            depth += 1
        elif code[index] == closing:
            depth -= 1
            if depth == 0:
                return index + 1
    raise ValueError("unbalanced brackets")


def without_test_items(code: str) -> str:
    """`code` with every `#[cfg(test)]` item blanked: a `use …;`, a `mod tests { … }`, a `fn`."""
    while match := CFG_TEST.search(code):
        end = match.end()
        while attribute := ATTRIBUTE.match(code, end):
            end = skip_balanced(code, attribute.end() - 1, "[", "]")
        depth = 0
        while end < len(code):
            ch = code[end]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == ";" and depth == 0:
                end += 1
                break
            elif ch == "{" and depth == 0:
                end = skip_balanced(code, end, "{", "}")
                break
            end += 1
        code = code[:match.start()] + "".join("\n" if ch == "\n" else " " for ch in code[match.start():end]) + code[end:]
    return code


IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
PATH_START = re.compile(r"(?<![\w$:])(crate\s*::\s*|(?:super\s*::\s*)+)")


def split_top_level(text: str) -> list[str]:
    """`text` split at the commas outside any braces."""
    entries: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "," and depth == 0:
            entries.append("".join(current))
            current = []
            continue
        depth += ch == "{"
        depth -= ch == "}"
        current.append(ch)
    return entries + ["".join(current)]


def use_paths(code: str) -> list[tuple[str, ...]]:
    """The paths a use-tree or path at the start of `code` names: `a::b::{c, d::*}` ->
    [(a, b, c), (a, b, d, *)]; `self` in a group names its parent; `a::f(…)` -> [(a, f)]."""
    segments: list[str] = []
    at = 0
    while True:
        at += len(code[at:]) - len(code[at:].lstrip())
        if code.startswith("{", at):
            inner = code[at + 1:skip_balanced(code, at, "{", "}") - 1]
            paths = [tuple(segments) + path for entry in split_top_level(inner) if entry.strip()
                     for path in use_paths(entry.strip())]
            return [tuple(segment for segment in path if segment != "self") for path in paths]
        name = re.match(rf"{IDENT}|\*", code[at:])
        if not name:
            return [tuple(segments)]
        segments.append(name.group(0))
        at += name.end()
        after = code[at:].lstrip()
        if not after.startswith("::"):
            return [tuple(segments)]
        at = len(code) - len(after) + 2


def rust_module_path(src: Path, file: Path) -> tuple[str, ...]:
    parts = file.relative_to(src).with_suffix("").parts
    return parts[:-1] if parts[-1] == "mod" else parts


def rust_graph(src: Path, depth: int) -> Graph:
    """Module -> modules it uses, where a module is the first `depth` segments of a path."""
    files = sorted(file for file in src.rglob("*.rs") if file != src / "lib.rs")

    def node(path: tuple[str, ...]) -> str:
        kept = list(path[:1])
        for segment in path[1:depth]:
            if not ((src.joinpath(*kept, segment + ".rs")).exists() or src.joinpath(*kept, segment).is_dir()):
                break
            kept.append(segment)
        return "/".join(kept)

    graph: Graph = {}
    for file in files:
        here = rust_module_path(src, file)
        source = node(here)
        edges = graph.setdefault(source, set())
        code = without_test_items(rust_code_only(file.read_text()))
        if re.search(r"\bmod\s+\w+\s*\{", code):
            sys.exit(f"{file}: an inline module outside #[cfg(test)]: this script does not follow them")
        for start in PATH_START.finditer(code):
            head = start.group(1)
            base = () if head.startswith("crate") else here[: len(here) - head.count("super")]
            for path in use_paths(code[start.end():]):
                target = base + path
                if target[:1] == ("*",):
                    sys.exit(f"{file}: a glob import of the crate root: name what is used")
                if not target or not ((src / (target[0] + ".rs")).exists() or (src / target[0]).is_dir()):
                    continue  # the crate root itself, or an item of lib.rs
                reached = node(target)
                if reached != source:
                    edges.add(reached)
    return graph


# Python


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def python_imports(module: ast.Module, package: str, modules: set[str]) -> set[str]:
    """The modules of `package` (named `modules`) that `module` imports, anywhere but under
    `if TYPE_CHECKING:`; `__init__` for a name taken from the package itself."""
    found: set[str] = set()

    def imported(source: str | None, names: list[str]) -> None:
        if source:
            found.add(source.split(".")[0])
        else:  # `from . import x`: a module, or a name from the package's __init__
            found.update(name if name in modules else "__init__" for name in names)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if node.level == 1:
                imported(node.module, names)
            elif node.level == 0 and node.module and (node.module + ".").startswith(package + "."):
                imported(node.module[len(package) + 1:] or None, names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(package + "."):
                    found.add(alias.name.split(".")[1])
                elif alias.name == package:
                    found.add("__init__")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(module)
    return found


def python_graph(package: Path) -> Graph:
    modules = {file.stem for file in package.glob("*.py")}
    graph: Graph = {}
    for file in sorted(package.glob("*.py")):
        tree = ast.parse(file.read_text(), str(file))
        graph[file.stem] = python_imports(tree, package.name, modules) - {file.stem}
    return graph


# The graph


def cycles(graph: Graph) -> list[list[str]]:
    """Each strongly connected component of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                connect(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return sorted(found)


def layers(graph: Graph) -> list[list[str]]:
    """Modules by height: 0 imports nothing here, n imports something at n - 1 and none higher."""
    height: dict[str, int] = {}

    def measure(module: str) -> int:
        if module not in height:
            height[module] = 0  # cycles are reported apart; this only stops the recursion
            height[module] = 1 + max((measure(target) for target in graph.get(module, ())), default=-1)
        return height[module]

    for module in graph:
        measure(module)
    rows: list[list[str]] = [[] for _ in range(max(height.values(), default=-1) + 1)]
    for module, level in height.items():
        rows[level].append(module)
    return [sorted(row) for row in rows]


def report(title: str, graph: Graph) -> bool:
    """Prints the graph; True if it has no cycle."""
    print(title)
    width = max(map(len, graph), default=0)
    for module in sorted(graph):
        print(f"  {module:<{width}} -> {', '.join(sorted(graph[module])) or '(nothing)'}")
    found = cycles(graph)
    if found:
        for component in found:
            print(f"  CYCLE: {', '.join(component)} import one another")
    else:
        print("  layers, bottom first:")
        for level, row in enumerate(layers(graph)):
            print(f"    {level}: {', '.join(row)}")
    print()
    return not found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this script's)")
    parser.add_argument("--depth", type=int, action="append",
                        help="Rust path segments per module: 1 for the layers, 2 for the files in them "
                             "(default: both)")
    arguments = parser.parse_args()
    acyclic = True
    for depth in arguments.depth or [1, 2]:
        rust = rust_graph(arguments.root / "rust_core" / "src", depth)
        acyclic &= report(f"rust_core/src at depth {depth}: module -> modules it imports", rust)
    python = python_graph(arguments.root / "barter_ffi")
    acyclic &= report("barter_ffi: module -> modules it imports (TYPE_CHECKING imports left out)", python)
    print("no cycles" if acyclic else "import cycles found: make the imports point one way (see above)")
    return 0 if acyclic else 1


if __name__ == "__main__":
    sys.exit(main())
