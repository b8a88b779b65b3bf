"""Descriptions and keys of the dbt models, read from the project's YAML files (dbt's manifest.json
is written only by some commands, so it is not relied on).

A description may be ``'{{ doc("name") }}'``: the ``{% docs name %}…{% enddocs %}`` block of that
name in a Markdown file under ``models/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kouiki.open_data.errors import OpenDataError

_DOC_REFERENCE = re.compile(r"""\{\{\s*doc\(\s*['"]([^'"]+)['"]\s*\)\s*\}\}""")
_DOCS_BLOCK = re.compile(r"\{%-?\s*docs\s+(\w+)\s*-?%\}(.*?)\{%-?\s*enddocs\s*-?%\}", re.DOTALL)


@dataclass(frozen=True)
class ModelDocs:
    description: str
    columns: dict[str, str]  # column -> description
    primary_key: str | None  # the first column with a unique test and a not_null test or constraint


def read_models(project: Path) -> dict[str, ModelDocs]:
    """Every documented model of the dbt project at ``project``, by name."""
    models_dir = project / "models"
    blocks: dict[str, str] = {
        name: text.strip()
        for path in sorted(models_dir.rglob("*.md"))
        for name, text in _DOCS_BLOCK.findall(path.read_text(encoding="utf-8"))
    }

    def resolve(text: object) -> str:
        def block(match: re.Match[str]) -> str:
            if match.group(1) not in blocks:
                raise OpenDataError(
                    f"dbt の docs ブロック {match.group(1)!r} が見つかりません / no dbt docs block "
                    f"{match.group(1)!r} under {models_dir}"
                )
            return blocks[match.group(1)]

        return _DOC_REFERENCE.sub(block, str(text or "")).strip()

    found: dict[str, ModelDocs] = {}
    for path in sorted([*models_dir.rglob("*.yml"), *models_dir.rglob("*.yaml")]):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise OpenDataError(f"dbt の YAML を読めません / cannot read {path}: {' '.join(str(exc).split())}") from exc
        for model in document.get("models") or []:
            columns = model.get("columns") or []
            found[model["name"]] = ModelDocs(
                description=resolve(model.get("description")),
                columns={c["name"]: resolve(c.get("description")) for c in columns},
                primary_key=next((c["name"] for c in columns if {"unique", "not_null"} <= _test_names(c)), None),
            )
    return found


def title_of(description: str) -> str | None:
    """The label a description starts with: ``期間`` of ``期間 (period code …)``, ``KPI名`` of ``KPI名.``."""
    first = description.splitlines()[0].strip() if description else ""
    label = first.split(" (", 1)[0].removesuffix(".").strip()
    return label if label and len(label) <= 40 else None


def _test_names(column: dict[str, Any]) -> set[str]:
    """Names of a column's tests, written as ``- unique`` or ``- unique: {config: …}``, and of its
    contract constraints (``- type: not_null``), which the marts use for not_null."""
    tests = [*(column.get("data_tests") or []), *(column.get("tests") or [])]
    constraints = {c["type"] for c in column.get("constraints") or [] if isinstance(c, dict) and "type" in c}
    return {t if isinstance(t, str) else next(iter(t)) for t in tests} | constraints
