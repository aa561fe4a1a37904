"""Errors of reading the inventory."""

from __future__ import annotations


class InventoryError(Exception):
    """Base of the inventory errors."""


class TemplateNotFound(InventoryError):
    """No template of that id in the catalog (a 404)."""

    def __init__(self, template_id: str) -> None:
        super().__init__(f"No template {template_id!r} in the catalog.")
        self.template_id = template_id


class DigestIncomplete(InventoryError):
    """Some owners' review digests were not sent this time (the email or the once ledger
    failed): the invocation fails so the schedule retries, and owners already sent are skipped."""

    def __init__(self, week: str, failed: int, owners: int) -> None:
        super().__init__(
            f"Review digest {week}: {failed} of {owners} owners' digests not sent; retry the firing."
        )
        self.week = week
        self.failed = failed
        self.owners = owners
