"""Settings come from BATON_* environment variables, read once per cold start."""

import pytest

from baton.data.tables import ALL_TABLES
from baton.settings import Settings


def test_settings_read_baton_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_CONTACTS_TABLE", "contacts-prod")
    monkeypatch.setenv("BATON_ALLOWED_ORIGINS", '["https://shop.example.com"]')

    settings = Settings()

    assert settings.contacts_table == "contacts-prod"
    assert settings.allowed_origins == ["https://shop.example.com"]


def test_every_table_has_a_settings_field() -> None:
    fields = Settings.model_fields
    assert all(f"{spec.id}_table" in fields for spec in ALL_TABLES)
