"""Synth refuses content edited after legal approved it, so `cdk deploy` from CI refuses it too;
transactional templates join in when cdk.json's `approvals.transactional` is on, and the functions
are told so (the send gate checks again)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from aws_cdk import assertions

from baton.journeys.approvals import APPROVALS_FILE, read_approvals
from baton.journeys.exceptions import CatalogError
from infra import names
from infra.synth import ROOT, build_app


def _catalog_copy(tmp_path: Path) -> Path:
    catalog = tmp_path / "journeys"
    shutil.copytree(ROOT / "journeys", catalog)
    return catalog


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_r_canspam_3_synth_fails_on_a_marketing_template_edited_after_approval(tmp_path: Path) -> None:
    # given the approved samples, then the welcome tip's English subject edited
    catalog = _catalog_copy(tmp_path)
    template = catalog / "templates" / "welcome-tip.yaml"
    _edit(template, "A tip to get started", "A great tip to get started")

    # when the app is built, then synth stops, naming file, template, locale, channel and approval
    with pytest.raises(CatalogError) as failure:
        build_app(
            outdir=str(tmp_path / "out"), bundling=False, context={"baton": {"journeysDir": str(catalog)}}
        )

    approval = read_approvals(catalog / APPROVALS_FILE).entries["welcome-tip"]["en"]["email"]
    message = str(failure.value)
    assert (
        f"{template}:10: locales.en.email: template welcome-tip: en email content changed after approval"
        in message
    )
    assert (
        f"by {approval.by} on {approval.on}: run `baton approve welcome-tip --by EMAIL` after review"
        in message
    )
    assert "1 issue in the journeys catalog" in message


def test_transactional_content_needs_approval_at_synth_when_cdk_json_asks(tmp_path: Path) -> None:
    catalog = _catalog_copy(tmp_path)
    on = {"baton": {"journeysDir": str(catalog), "approvals": {"transactional": True}}}

    # the samples are all approved, transactional ones too: they synthesize with the switch on,
    # and every function is told so (its send gate checks transactional content as well)
    app = build_app(outdir=str(tmp_path / "approved"), bundling=False, context=on)
    functions = assertions.Template.from_stack(app.node.find_child("Baton")).find_resources(
        "AWS::Lambda::Function"
    )
    variable = names.settings_env("approvals_transactional")
    told = [
        f["Properties"]["Environment"]["Variables"][variable]
        for f in functions.values()
        if names.ENV_JOURNEYS_DIR in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert told
    assert set(told) == {"true"}

    # an edit to a transactional template after approval then fails synth at that content
    _edit(catalog / "templates" / "order-shipped.yaml", "has shipped. Track it here", "is out. Track it")
    with pytest.raises(CatalogError) as failure:
        build_app(outdir=str(tmp_path / "edited"), bundling=False, context=on)
    assert "template order-shipped: en sms content changed after approval" in str(failure.value)
