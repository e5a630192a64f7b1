"""The shape of the shared crates, checked (run by `make lint`):

- no module of `shared/core` or `shared/shell` imports a module that imports it back, directly
  or through others: imports run one way, so each layer can be read without the ones above it;
- no source file under `shared/` is longer than MAX_LINES: a file that grows past that is doing
  more than one job and should be split.

A module is a top-level module of a crate (`policy/validate.rs` belongs to `policy`). Imports
are read from `use crate::…` and `crate::…::` paths in code, tests included (a doc comment that
links to a module above is a reference for the reader, not a dependency).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRATES = [ROOT / "shared" / "core" / "src", ROOT / "shared" / "shell" / "src"]
MAX_LINES = 450
USE = re.compile(r"\bcrate::(?:\{([^}]*)\}|(\w+))")
COMMENT = re.compile(r"//.*$", re.MULTILINE)


def module_of(src: pathlib.Path, path: pathlib.Path) -> str | None:
    rel = path.relative_to(src)
    if rel.parts == ("lib.rs",):
        return None
    return rel.parts[0].removesuffix(".rs")


def imports(text: str) -> set[str]:
    found = set()
    for group, single in USE.findall(COMMENT.sub("", text)):
        if single:
            found.add(single)
        else:
            found.update(p.strip().split("::")[0] for p in group.split(",") if p.strip())
    return found


def graph(src: pathlib.Path) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(src.rglob("*.rs")):
        module = module_of(src, path)
        if module is None:
            continue
        deps = imports(path.read_text()) - {module, "self"}
        edges.setdefault(module, set()).update(deps)
    return edges


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def main() -> int:
    problems = []
    for src in CRATES:
        if found := cycle(graph(src)):
            problems.append(f"{src.parent.name}: import cycle {' -> '.join(found)}")
    for path in sorted((ROOT / "shared").rglob("*.rs")):
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            problems.append(f"{path.relative_to(ROOT)}: {lines} lines (more than {MAX_LINES})")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
