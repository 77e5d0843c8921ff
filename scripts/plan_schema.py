"""Write the JSON Schema of the plan file format to docs/plan.schema.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from clocksync.plan.file import Plan

OUT = Path(__file__).resolve().parent.parent / "docs" / "plan.schema.json"


def schema_text() -> str:
    schema = Plan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://clocksync.invalid/plan.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {OUT}")
    sys.exit(0)
