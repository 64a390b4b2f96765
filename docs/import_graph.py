"""Print the project's import graph (first-party modules only) and any cycle in it.

    python docs/import_graph.py            # module -> the project modules it imports (anywhere in the file)

A script is a top-level .py file; the orchestrators (train_world_model.py, train_baselines.py) are the
only scripts allowed to import other scripts.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("utils", "models", "baselines")
SCRIPTS = {p.stem for p in ROOT.glob("*.py")} - {"config"}  # config.py is the one shared module at the top


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def first_party(name: str) -> str | None:
    top = name.split(".")[0]
    if top in SCRIPTS:
        return top
    if top in PACKAGES:
        return name if (ROOT / Path(*name.split("."))).with_suffix(".py").exists() else None
    return None


def graph() -> dict[str, set[str]]:
    files = [p for p in ROOT.glob("*.py")] + [p for pkg in PACKAGES for p in (ROOT / pkg).glob("*.py")]
    out: dict[str, set[str]] = {}
    for path in sorted(files):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            deps |= {m for n in names if (m := first_party(n))}
        me = module_name(path)
        out[me] = deps - {me, "utils", "models", "baselines"}
    return out


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(g.get(node, ())):
            if state.get(dep) == 1:
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node, [node])
    return found


if __name__ == "__main__":
    g = graph()
    for mod, deps in g.items():
        print(f"{mod:<22} -> {', '.join(sorted(deps)) or '-'}")
    script_deps = {m: sorted(d & SCRIPTS) for m, d in g.items() if m in SCRIPTS and d & SCRIPTS}
    print("\nscripts importing scripts:", script_deps or "none")
    found = cycles(g)
    print("cycles:", found or "none")
    sys.exit(1 if found else 0)
