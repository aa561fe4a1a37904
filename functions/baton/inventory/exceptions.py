"""Errors of reading the inventory."""

from __future__ import annotations


class InventoryError(Exception):
    """Base of the inventory errors."""


class TemplateNotFound(InventoryError):
    """No template of that id in the catalog (a 404)."""

    def __init__(self, template_id: str) -> None:
        super().__init__(f"No template {template_id!r} in the catalog.")
        self.template_id = template_id
