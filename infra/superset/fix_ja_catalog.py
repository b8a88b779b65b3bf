"""Correct entries of Superset's Japanese UI catalog that ship as wrong machine matches.

The catalog's unreviewed ("fuzzy") entries include some that say something else entirely, and the
ones below appear on Kouiki's dashboards: a table's search box read "47 エラー" ("47 errors") for 47
rows. Run with the Superset environment's Python after installing it; running it again changes
nothing.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

CORRECTIONS = {
    "%s record": ["%s 件"],  # shipped as "%s エラー"
}


def catalog_path() -> Path:
    spec = importlib.util.find_spec("superset")  # located, not imported: importing builds the app
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("superset is not installed in this environment")
    return Path(spec.submodule_search_locations[0]) / "translations" / "ja" / "LC_MESSAGES" / "messages.json"


def main() -> None:
    path = catalog_path()
    catalog = json.loads(path.read_text(encoding="utf-8"))
    entries = catalog["locale_data"]["superset"]
    wrong = {key: value for key, value in CORRECTIONS.items() if entries.get(key) != value}
    if wrong:
        entries.update(wrong)
        path.write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    print(f"ja catalog: {len(wrong)} of {len(CORRECTIONS)} entries corrected", file=sys.stderr)


if __name__ == "__main__":
    main()
