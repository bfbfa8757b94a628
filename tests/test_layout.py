"""The code's layout: one package per journey, shared ground at the top, an engine that knows no journey.

A newcomer finds a page, a rule or a template from the folder names alone; these checks keep it so.
"""

import ast
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[1] / "guide"
JOURNEYS = ("accounts", "api", "chat", "decisions", "index", "lookup", "process", "records", "training")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(GUIDE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every guide module this one imports, at the top or inside a function."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [f"{target}.{alias.name}" for alias in node.names] + [target]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in candidates if name.startswith("guide"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in GUIDE.rglob("*.py") if "migrations" not in p.parts}
    return {name: {t for t in imports_of(path) if t in modules and t != name} for name, path in modules.items()}


def test_no_import_cycles():
    edges = graph()
    # A package's __init__ importing its own modules is not a cycle a reader trips on.
    for name in edges:
        edges[name] = {t for t in edges[name] if not name.startswith(t + ".") and t != "guide"}
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == [], cycles


def test_the_engine_knows_no_journey():
    for path in (GUIDE / "flows").rglob("*.py"):
        for target in imports_of(path):
            assert target.startswith("guide.flows"), f"{path.name} imports {target}"


def test_one_package_per_journey_with_its_pages_and_templates():
    for journey in JOURNEYS:
        package = GUIDE / journey
        assert (package / "__init__.py").exists(), journey
        assert list(package.glob("*.py")), journey
    for templates in GUIDE.glob("*/templates"):
        # a journey's templates sit in a folder named for it, so names never clash between journeys
        assert [p.name for p in templates.iterdir()] == [templates.parent.name], templates


def test_no_module_name_is_another_plus_a_suffix():
    names = {p.stem for p in GUIDE.rglob("*.py") if p.stem != "__init__" and "migrations" not in p.parts}
    names |= {p.name for p in GUIDE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    clashes = [(a, b) for a in names for b in names if a != b and b.startswith(a) and len(b) - len(a) <= 3]
    assert clashes == []


def test_every_guide_import_names_a_module_that_exists():
    """Migrations and lazy imports too: a stale name after a move fails here, not on a fresh machine."""
    modules = {module_name(p) for p in GUIDE.rglob("*.py")}
    missing = []
    for path in GUIDE.rglob("*.py"):
        here = module_name(path)
        package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.startswith("guide") and target not in modules:
                    missing.append((str(path.relative_to(GUIDE)), target))
    assert missing == [], missing
