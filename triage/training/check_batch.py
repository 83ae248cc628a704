"""Check a training batch file: valid JSON lines, known codes, unique ids.

Usage: python triage/training/check_batch.py triage/training/batch-01.jsonl [...]
Prints counts per product type and process type so a writer can see the balance.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

TAXONOMY = Path(__file__).resolve().parents[2] / "enquiries" / "taxonomy.json"
REQUIRED = (
    "id",
    "organisation_type",
    "development_stage",
    "title",
    "description",
    "product_type",
    "process_types",
)


def main(paths: list[str]) -> int:
    tax = json.loads(TAXONOMY.read_text())
    codes = {
        k: {c["code"] for c in tax[k]}
        for k in (
            "product_types",
            "process_types",
            "organisation_types",
            "development_stages",
        )
    }
    ids: set[str] = set()
    products: collections.Counter[str] = collections.Counter()
    processes: collections.Counter[str] = collections.Counter()
    empty = errors = total = 0
    for path in paths:
        for n, line in enumerate(Path(path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{where}: bad JSON: {exc}")
                errors += 1
                continue
            missing = [k for k in REQUIRED if k not in row]
            if missing:
                print(f"{where}: missing {missing}")
                errors += 1
                continue
            if row["id"] in ids:
                print(f"{where}: duplicate id {row['id']}")
                errors += 1
            ids.add(row["id"])
            checks = [
                ("product_type", "product_types"),
                ("organisation_type", "organisation_types"),
                ("development_stage", "development_stages"),
            ]
            for field, kind in checks:
                if row[field] not in codes[kind]:
                    print(f"{where}: unknown {field} {row[field]!r}")
                    errors += 1
            if not isinstance(row["process_types"], list) or any(
                p not in codes["process_types"] for p in row["process_types"]
            ):
                print(f"{where}: bad process_types {row['process_types']!r}")
                errors += 1
            if len(set(row["process_types"])) != len(row["process_types"]):
                print(f"{where}: repeated process type")
                errors += 1
            if len(row["description"]) < 50:
                print(f"{where}: description under 50 characters")
                errors += 1
            total += 1
            products[row["product_type"]] += 1
            processes.update(row["process_types"])
            empty += not row["process_types"]
    print(f"{total} rows, {errors} errors, {empty} with no process type")
    print("product:", dict(sorted(products.items())))
    print("process:", dict(sorted(processes.items())))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
