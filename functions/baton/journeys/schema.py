"""JSON Schema (draft 2020-12) of the journey, template and segment files, generated from the models.

Editors use it to complete and check the YAML as it is typed (yaml-language-server reads the
`# yaml-language-server: $schema=...` line at the top of each sample). `baton validate` stays the
judge: cross-file rules (templates, steps, locales, SMS parts) are beyond a schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from baton.journeys.models import Journey
from baton.journeys.segments import Segment
from baton.journeys.templates import Template

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "journey": (Journey, "A Baton journey: one YAML file in journeys/ (ARCHITECTURE.md, Journey DSL)."),
    "template": (Template, "A Baton message template: journeys/templates/<id>.yaml, per locale and channel."),
    "segment": (Segment, "A Baton segment: journeys/segments/<id>.yaml, conditions on contact attributes."),
}


def schema_of(kind: str) -> dict[str, Any]:
    """The JSON Schema of one file kind: `journey`, `template` or `segment`."""
    model, description = SCHEMAS[kind]
    generated = model.model_json_schema(mode="validation", by_alias=True)
    generated.pop("title", None)
    generated.pop("description", None)
    return {
        "$schema": DRAFT,
        "$id": f"urn:baton:schema:{kind}",
        "title": f"Baton {kind}",
        "description": description,
        **generated,
    }


def schema_text(kind: str) -> str:
    """Deterministic text of one schema file (what is committed)."""
    return json.dumps(schema_of(kind), indent=2, ensure_ascii=False) + "\n"


def schema_files() -> dict[str, str]:
    """File name -> text, for every schema."""
    return {f"{kind}.schema.json": schema_text(kind) for kind in SCHEMAS}


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into `folder` (created if needed); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_files().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
