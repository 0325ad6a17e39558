"""Dependencies point one way: hub ← catalog ← inventory ← orders ← returns ← connectors."""

import ast
from pathlib import Path

LAYERS = ["hub", "catalog", "inventory", "orders", "returns", "connectors"]
ROOT = Path(__file__).resolve().parents[2]


def imported_top_level_names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def upward_imports(app: str, source: str) -> set[str]:
    rank = LAYERS.index(app)
    return {name for name in imported_top_level_names(source) if name in LAYERS and LAYERS.index(name) > rank}


def test_checker_flags_an_upward_import():
    assert upward_imports("catalog", "from orders.models import Customer\nimport hub.money") == {"orders"}
    assert upward_imports("orders", "from catalog.models import Product") == set()


def test_no_app_imports_a_higher_app():
    violations = []
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            found = upward_imports(app, path.read_text(encoding="utf-8"))
            if found:
                violations.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(found))}")
    assert violations == []
