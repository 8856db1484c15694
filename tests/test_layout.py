"""The layout of ivr/ by area holds: read from the source's own import statements (every one,
inside functions and under TYPE_CHECKING too), the pure areas import no web, database or
process framework and nothing of the edges, and no two modules import each other in a circle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

IVR = Path(__file__).resolve().parent.parent / "ivr"

PURE_AREAS = ("ivr.call", "ivr.directory")
FORBIDDEN_LIBRARIES = ("flask", "sqlalchemy", "gunicorn")
EDGES = ("ivr.serve", "ivr.store", "ivr.console", "ivr.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(IVR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in IVR.rglob("*.py") if "migrations" not in path.parts}


def imports_of(module: str) -> set[str]:
    """Every module `module` imports: `from a import b` counts as a.b when that is a module."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return found


def _within(name: str, areas: tuple[str, ...]) -> bool:
    return any(name == area or name.startswith(area + ".") for area in areas)


def test_the_import_reader_sees_every_kind_of_import() -> None:
    """The reader itself: a relative, a function-level and a TYPE_CHECKING import are all seen."""
    assert "ivr.console.web" in imports_of("ivr.console")  # `from .web import ...` inside a function
    assert "ivr.serve.webhooks" in imports_of("ivr.serve.fast_webhooks")
    assert "flask" in imports_of("ivr.serve.web")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _within(m, PURE_AREAS)))
def test_the_pure_areas_import_no_framework_and_no_edge(module: str) -> None:
    wrong = sorted(name for name in imports_of(module)
                   if name.split(".")[0] in FORBIDDEN_LIBRARIES or _within(name, EDGES))
    assert wrong == [], f"{MODULES[module]} imports {wrong}; call/ and directory/ must stay pure"


def test_no_two_modules_import_each_other_in_a_circle() -> None:
    graph = {module: {name for name in imports_of(module) if name in MODULES and name != module}
             for module in MODULES}
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert circles == [], "import circles: " + "; ".join(" -> ".join(circle) for circle in circles)
