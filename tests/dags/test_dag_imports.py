"""DAG files import only what the orchestration needs of Kouiki: orchestration, landing, warehouse,
notices, open data, the Superset service and the configuration (import-linter checks the package; the DAG folder is not
a package, so its imports are checked here)."""

from __future__ import annotations

import ast
from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"
ALLOWED = (
    "kouiki.config",
    "kouiki.orchestration",
    "kouiki.landing",
    "kouiki.warehouse",
    "kouiki.notices",
    "kouiki.open_data",
    "kouiki.services.superset",
)


def kouiki_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [n for n in names if n == "kouiki" or n.startswith("kouiki.")]


def test_dag_files_import_only_the_allowed_parts_of_kouiki() -> None:
    files = sorted(DAGS.glob("*.py"))
    assert files
    for path in files:
        imported = kouiki_imports(path)
        assert imported, f"{path.name} imports nothing of Kouiki"
        bad = [n for n in imported if not any(n == a or n.startswith(f"{a}.") for a in ALLOWED)]
        assert not bad, f"{path.name} imports {bad}"
