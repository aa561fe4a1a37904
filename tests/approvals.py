"""Approvals for catalogs a test builds: legal's approval of the content as the test wrote it,
recorded the way `baton approve` records it, so the approval check stays on in every test."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from baton.journeys.approvals import APPROVALS_FILE, Approvals
from baton.journeys.catalog import TEMPLATES_DIR
from baton.journeys.source import SourceError, read_source
from baton.journeys.templates import Template

APPROVER: Final = "legal@example.com"
APPROVED_AT: Final = datetime(2026, 4, 1, 9, tzinfo=UTC)


def approved(templates: Iterable[Template], by: str = APPROVER, at: datetime = APPROVED_AT) -> Approvals:
    """Approvals of these templates' content as it is now (for a `Catalog` built in memory)."""
    approvals = Approvals()
    for template in templates:
        approvals = approvals.approve(template, by, at)
    return approvals


def approve_catalog(root: Path, by: str = APPROVER, at: datetime = APPROVED_AT) -> Path:
    """Write `root/approvals.yaml` approving every template file under `root/templates` that
    reads as a template, as it is now (its other issues, if any, are still reported when the
    catalog is loaded). Returns the file's path."""
    templates = []
    for file in sorted((root / TEMPLATES_DIR).glob("*.yaml")):
        try:
            templates.append(Template.model_validate(read_source(file).data))
        except (SourceError, ValidationError):
            continue  # not a template yet: the catalog says why
    path = root / APPROVALS_FILE
    path.write_text(approved(templates, by, at).dump(), encoding="utf-8")
    return path


def write_catalog(root: Path, files: Mapping[str, str]) -> Path:
    """Write `files` (paths relative to `root`, the journeys folder) and approve its templates as
    written, as a catalog that passed review and `baton approve` would be. Returns `root`."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    approve_catalog(root)
    return root
