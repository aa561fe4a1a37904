"""The sample journeys in `journeys/`, the committed JSON Schema, and `baton validate` / `baton schema`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from baton.journeys.approvals import APPROVALS_FILE
from baton.journeys.catalog import check_catalog, load_catalog
from baton.journeys.models import Purpose
from baton.journeys.render import TemplateVariables, render_message
from baton.journeys.schema import schema_files
from baton.journeys.source import read_source
from baton.sms.segments import Encoding
from infra.cli import main

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
VARIABLES = TemplateVariables(
    contact={"first_name": "Ana", "attributes": {}},
    # the samples' trigger events: order.shipped (order-shipped) and support.request_created
    # (support-follow-up)
    event={"order_id": "A-1042", "tracking_url": "https://track.example.com/A-1042", "request_id": "1042"},
    brand="Baton Demo Co",
    postal_address="Baton Demo Co, 100 Main Street, Springfield, IL 62701, USA",
    unsubscribe_url="https://example.com/u/t",
    preferences_url="https://example.com/p/t",
)


def test_the_samples_load_with_no_issues() -> None:
    report = check_catalog(JOURNEYS)

    assert report.issues == []
    assert sorted(report.catalog.journeys) == [
        "gold-monthly",
        "lead-nurture",
        "order-shipped",
        "support-follow-up",  # the contract's own example (handoff, wait for event, ...)
        "welcome",
    ]
    assert sorted(report.catalog.segments) == ["gold-customers"]


def test_every_sample_sends_in_en_and_pt_br_and_every_template_is_used() -> None:
    catalog = load_catalog(JOURNEYS)
    used = {template for journey in catalog.journeys.values() for template in journey.templates}

    assert used == set(catalog.templates)
    for journey in catalog.journeys.values():
        for step in journey.steps:
            if step.send is None:
                continue
            for channel in step.send.channels:
                for locale in ("en", "pt-BR"):
                    message = render_message(catalog.template(step.send.template), channel, locale, VARIABLES)
                    assert message.locale == locale, (journey.journey, step.id, channel)


def test_sample_purposes_topics_and_triggers() -> None:
    catalog = load_catalog(JOURNEYS)
    welcome, nurture, shipped = (
        catalog.journey(name) for name in ("welcome", "lead-nurture", "order-shipped")
    )

    assert (welcome.purpose, welcome.topic, welcome.trigger.event) == (
        Purpose.MARKETING,
        "news",
        "subscription.confirmed",
    )
    assert welcome.steps[0].send is not None
    assert welcome.steps[0].send.channels == ["sms", "email"]
    assert (nurture.purpose, nurture.topic, nurture.trigger.event) == (
        Purpose.MARKETING,
        "offers",
        "lead.created",
    )
    assert (shipped.purpose, shipped.topic, shipped.trigger.event) == (
        Purpose.TRANSACTIONAL,
        None,
        "order.shipped",
    )
    assert [journey.journey for journey in catalog.journeys_for_event("order.shipped")] == ["order-shipped"]
    assert [journey.journey for journey in catalog.journeys_exiting_on("lead.converted")] == ["lead-nurture"]


def test_r_sms_1_sample_sms_fit_one_gsm7_part() -> None:
    report = check_catalog(JOURNEYS)

    assert {(s.template, s.locale) for s in report.sms} == {
        ("welcome-hello", "en"),
        ("welcome-hello", "pt-BR"),
        ("order-shipped", "en"),
        ("order-shipped", "pt-BR"),
        ("csat-survey", "en"),  # support-follow-up
        ("csat-survey", "pt-BR"),
    }
    assert all((s.encoding, s.parts) == (Encoding.GSM7, 1) for s in report.sms)


def test_the_committed_schema_files_are_up_to_date() -> None:
    for name, text in schema_files().items():
        committed = JOURNEYS / "schema" / name
        assert committed.read_text(encoding="utf-8") == text, f"run `baton schema`: {name} is stale"


def test_the_samples_validate_against_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for kind, folder in (
        ("journey", JOURNEYS),
        ("template", JOURNEYS / "templates"),
        ("segment", JOURNEYS / "segments"),
    ):
        schema = json.loads((JOURNEYS / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema)
        for path in sorted(p for p in folder.glob("*.yaml") if p.name != APPROVALS_FILE):
            assert [error.message for error in validator.iter_errors(read_source(path).data)] == [], path


def test_baton_validate_prints_the_summary_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(JOURNEYS)])

    out = capsys.readouterr().out
    assert code == 0
    # gold-monthly; support-follow-up and its support-ack, csat-survey, csat-reminder
    assert "5 journeys, 10 templates, 1 segment valid" in out
    assert "  welcome-hello pt-BR: GSM-7 1 part (" in out
    assert out.rstrip().endswith("No issues.")


def test_baton_validate_prints_each_issue_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    welcome = folder / "welcome.yaml"
    welcome.write_text(welcome.read_text(encoding="utf-8").replace("duration: 3d", "duration: 3 days"))

    code = main(["validate", str(folder)])

    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0].startswith(f"{welcome}:16: steps[1].wait.duration: '3 days' is not a duration")
    assert out[-1] == "1 issue."


def test_baton_schema_writes_the_three_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--out", str(tmp_path / "schema")]) == 0

    written = sorted(path.name for path in (tmp_path / "schema").iterdir())
    assert written == ["journey.schema.json", "segment.schema.json", "template.schema.json"]
    journey = json.loads((tmp_path / "schema" / "journey.schema.json").read_text(encoding="utf-8"))
    assert journey["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert journey["$id"] == "urn:baton:schema:journey"
    assert journey["additionalProperties"] is False


def test_baton_validate_holds_templates_to_the_locales_cdk_json_declares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baton = {**json.loads((JOURNEYS.parent / "cdk.json").read_text(encoding="utf-8"))["context"]["baton"]}
    baton["locales"] = ["en", "pt-BR", "es"]
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"baton": baton}}), encoding="utf-8")

    code = main(["validate", str(JOURNEYS), "--config", str(cdk_json)])

    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert sum(": locales: no es: the deployment declares en, pt-BR, es" in line for line in out) == 10
    assert any(line.startswith("5 journeys, 0 templates, 1 segment valid") for line in out)
    assert out[-1] == "10 issues."
