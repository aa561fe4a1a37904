"""Export and erasure cover every table (R-GDPR-5, R-LGPD-2): a table a deployment names without
an entry in `baton.privacy.TABLE_COVERAGE` (how it is exported and erased, or why it holds
nothing about a person) fails here, before it can hold someone's data unseen."""

from __future__ import annotations

from baton import privacy
from baton.contacts.models import ErasureReport
from baton.data.tables import ALL_TABLES
from baton.settings import table_fields


def test_r_gdpr_5_every_table_a_deployment_names_has_an_export_and_erasure_entry() -> None:
    # A table added to the settings without saying what export and erasure do with it fails here.
    assert sorted(privacy.TABLE_COVERAGE) == table_fields()
    erasure_fields = set(privacy.FullErasure.model_fields) | set(ErasureReport.model_fields)
    for field, coverage in privacy.TABLE_COVERAGE.items():
        assert coverage.why, field
        if coverage.exported_as is not None:
            assert coverage.exported_as in privacy.FullExport.model_fields, field
        if coverage.erased_as is not None:
            assert coverage.erased_as in erasure_fields, field
    kept = {field for field, coverage in privacy.TABLE_COVERAGE.items() if coverage.erased_as is None}
    # Only salted hashes survive erasure (R-GDPR-5), and the tables that hold nothing personal
    # (pacing counts; campaign counts and outcomes by position).
    assert kept == {
        "suppression_table",
        "pacing_table",
        "do_not_contact_table",
        "campaigns_table",
        "figures_table",
    }


def test_r_gdpr_5_the_settings_name_every_table_the_stack_creates() -> None:
    assert sorted(f"{spec.id}_table" for spec in ALL_TABLES) == table_fields()
