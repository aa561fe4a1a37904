"""Approval bound to content: the hash of each locale's channel content, the approvals file, the
`baton approve` command, `baton validate` refusing content edited after approval, and the
switch that makes transactional templates need approval too."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton.journeys.approvals import (
    APPROVALS_FILE,
    Approvals,
    ApprovalsError,
    Verdict,
    content_hash,
    read_approvals,
)
from baton.journeys.catalog import check_catalog
from baton.journeys.templates import Template
from infra.cli import main
from infra.config import BatonConfig
from tests.approvals import APPROVED_AT, approve_catalog

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "journeys"

PROMO: dict[str, Any] = {
    "template": "promo",
    "owner": "growth@example.com",
    "purpose": "marketing",
    "approved_by": "legal@example.com",
    "locales": {
        "en": {
            "email": {
                "subject": "News from {{ brand }}",
                "html": "<p>News</p><a href='{{ unsubscribe_url }}'>Unsubscribe</a> {{ postal_address }}",
                "text": "News. Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}",
            },
            "sms": {"text": "{{ brand }}: news. Reply STOP to opt out."},
        },
        "pt-BR": {
            "email": {
                "subject": "Novidades da {{ brand }}",
                "text": "Novidades. Cancelar: {{ unsubscribe_url }} {{ postal_address }}",
            },
        },
    },
}


def _template(**email: str) -> Template:
    data = json.loads(json.dumps(PROMO))
    data["locales"]["en"]["email"].update(email)
    return Template.model_validate(data)


def _samples(tmp_path: Path) -> Path:
    folder = tmp_path / "journeys"
    shutil.copytree(SAMPLES, folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- the hash ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "part", ["subject", "html", "text"], ids=lambda part: f"an edit to the {part} changes the hash"
)
def test_any_change_to_an_emails_subject_html_or_text_changes_its_hash(part: str) -> None:
    before = _template()
    after = _template(**{part: getattr(before.locales["en"].email, part) + "!"})

    assert content_hash(after, "en", "email") != content_hash(before, "en", "email")
    # the other contents of the template keep theirs
    assert content_hash(after, "en", "sms") == content_hash(before, "en", "sms")
    assert content_hash(after, "pt-BR", "email") == content_hash(before, "pt-BR", "email")


def test_removing_the_html_part_changes_the_hash() -> None:
    data = json.loads(json.dumps(PROMO))
    del data["locales"]["en"]["email"]["html"]

    assert content_hash(Template.model_validate(data), "en", "email") != content_hash(
        _template(), "en", "email"
    )


def test_key_order_and_yaml_formatting_do_not_change_the_hash() -> None:
    flow = yaml.safe_load(
        "template: promo\nowner: growth@example.com\npurpose: marketing\napproved_by: legal@example.com\n"
        'locales:\n  en:\n    sms: {text: "{{ brand }}: news. Reply STOP to opt out."}\n'
        '    email: {text: "News. Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}", '
        "html: \"<p>News</p><a href='{{ unsubscribe_url }}'>Unsubscribe</a> {{ postal_address }}\", "
        'subject: "News from {{ brand }}"}\n'
    )
    block = yaml.safe_load(
        "template: promo\npurpose: marketing\nowner: growth@example.com\napproved_by: legal@example.com\n"
        "locales:\n  en:\n    email:\n      subject: >-\n        News from\n        {{ brand }}\n"
        "      text: 'News. Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}'\n"
        "      html: |-\n"
        "        <p>News</p><a href='{{ unsubscribe_url }}'>Unsubscribe</a> {{ postal_address }}\n"
        "    sms:\n      text: '{{ brand }}: news. Reply STOP to opt out.'\n"
    )
    flow_template, block_template = Template.model_validate(flow), Template.model_validate(block)

    for channel in ("email", "sms"):
        assert content_hash(flow_template, "en", channel) == content_hash(_template(), "en", channel)
        assert content_hash(block_template, "en", channel) == content_hash(_template(), "en", channel)


def test_the_same_words_on_another_channel_are_another_content() -> None:
    data = json.loads(json.dumps(PROMO))
    data["locales"]["en"]["voice"] = data["locales"]["en"]["sms"]
    template = Template.model_validate(data)

    assert content_hash(template, "en", "voice") != content_hash(template, "en", "sms")
    assert content_hash(template, "en", "sms").startswith("sha256:")


# -- the approvals file -----------------------------------------------------------------------


def test_an_approval_of_the_content_as_it_is_reads_back_approved_and_an_edit_is_changed(
    tmp_path: Path,
) -> None:
    path = tmp_path / APPROVALS_FILE
    path.write_text(
        Approvals().approve(_template(), "legal@example.com", APPROVED_AT).dump(), encoding="utf-8"
    )
    approvals = read_approvals(path)

    assert {(v.locale, v.channel, v.verdict) for v in approvals.review(_template())} == {
        ("en", "email", Verdict.APPROVED),
        ("en", "sms", Verdict.APPROVED),
        ("pt-BR", "email", Verdict.APPROVED),
    }
    changed = approvals.of(_template(subject="Huge news from {{ brand }}"), "en", "email")
    assert changed.verdict is Verdict.CHANGED
    assert changed.problem() == (
        "en email content changed after approval by legal@example.com on 2026-04-01: "
        "run `baton approve promo --by EMAIL` after review"
    )


def test_the_file_has_one_line_per_locale_and_channel_with_who_when_and_what() -> None:
    text = (
        Approvals()
        .approve(_template(), "legal@example.com", datetime(2026, 4, 1, 9, 30, 5, 123, tzinfo=UTC))
        .dump()
    )

    entries = [line.strip() for line in text.splitlines() if line.startswith("    ")]
    at = '{by: legal@example.com, at: "2026-04-01T09:30:05Z", content: '
    assert entries == [
        f'email: {at}"{content_hash(_template(), "en", "email")}"}}',
        f'sms: {at}"{content_hash(_template(), "en", "sms")}"}}',
        f'email: {at}"{content_hash(_template(), "pt-BR", "email")}"}}',
    ]


def test_a_broken_approvals_file_names_its_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / APPROVALS_FILE
    digest = content_hash(_template(), "en", "email")
    path.write_text(
        "promo:\n"
        "  en:\n"
        f'    email: {{by: legal, at: "2026-04-01T09:00:00Z", content: "{digest}"}}\n'
        f'    sms: {{by: legal@example.com, at: "2026-04-01 09:00", content: "{digest}"}}\n'
        '    fax: {by: legal@example.com, at: "2026-04-01T09:00:00Z", content: "sha256:00"}\n',
        encoding="utf-8",
    )

    with pytest.raises(ApprovalsError) as failure:
        read_approvals(path)

    found = {(issue.line, issue.key): issue.message for issue in failure.value.issues}
    assert set(found) == {(3, "promo.en.email.by"), (4, "promo.en.sms.at"), (5, "promo.en.fax")}
    assert "not a valid email address" in found[(3, "promo.en.email.by")]
    assert "is not a UTC time: write it as 2026-05-01T10:00:00Z" in found[(4, "promo.en.sms.at")]
    assert "unknown key 'fax'" in found[(5, "promo.en.fax")]
    assert all(issue.file == str(path) for issue in failure.value.issues)


def test_an_approvals_file_that_is_not_yaml_fails_the_catalog_with_its_line(tmp_path: Path) -> None:
    folder = _samples(tmp_path)
    (folder / APPROVALS_FILE).write_text("promo:\n  en: [\n", encoding="utf-8")

    report = check_catalog(folder, require_approval=False)

    (issue,) = [issue for issue in report.issues if issue.file.endswith(APPROVALS_FILE)]
    assert issue.line == 3
    assert issue.message.startswith("not valid YAML")


# -- baton approve ----------------------------------------------------------------------------


def test_baton_approve_records_every_locale_and_channel_and_replaces_earlier_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _samples(tmp_path)
    before = read_approvals(folder / APPROVALS_FILE)
    _edit(folder / "templates" / "welcome-tip.yaml", "A tip to get started", "A first tip to get started")
    stale = before.entries["welcome-tip"]

    code = main(["approve", "welcome-tip", "--by", "counsel@example.com", "--path", str(folder)])

    out = capsys.readouterr().out
    after = read_approvals(folder / APPROVALS_FILE)
    template = check_catalog(folder).catalog.templates["welcome-tip"]
    assert code == 0
    assert [(v.locale, v.channel, v.verdict) for v in after.review(template)] == [
        ("en", "email", Verdict.APPROVED),
        ("pt-BR", "email", Verdict.APPROVED),
    ]
    assert {
        approval.by for locale in after.entries["welcome-tip"].values() for approval in locale.values()
    } == {"counsel@example.com"}
    assert after.entries["welcome-tip"]["en"]["email"] != stale["en"]["email"]
    # the other templates' approvals are left as they were
    assert {k: v for k, v in after.entries.items() if k != "welcome-tip"} == {
        k: v for k, v in before.entries.items() if k != "welcome-tip"
    }
    assert f"Approved welcome-tip by counsel@example.com, recorded in {folder / APPROVALS_FILE}" in out
    assert "en email: {by: counsel@example.com, at: " in out
    assert content_hash(template, "pt-BR", "email") in out
    assert check_catalog(folder).ok


def test_baton_approve_refuses_an_unknown_template_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _samples(tmp_path)
    before = (folder / APPROVALS_FILE).read_text(encoding="utf-8")

    code = main(["approve", "welcome-hi", "--by", "legal@example.com", "--path", str(folder)])

    assert code != 0
    assert "no template 'welcome-hi'" in capsys.readouterr().err
    assert (folder / APPROVALS_FILE).read_text(encoding="utf-8") == before


@pytest.mark.parametrize("by", ["legal", "legal@", "@example.com", "legal example.com", ""])
def test_baton_approve_needs_the_approvers_email_and_changes_nothing(
    tmp_path: Path, by: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _samples(tmp_path)
    before = (folder / APPROVALS_FILE).read_text(encoding="utf-8")

    code = main(["approve", "welcome-tip", "--by", by, "--path", str(folder)])

    assert code != 0
    assert "is not an email address" in capsys.readouterr().err
    assert (folder / APPROVALS_FILE).read_text(encoding="utf-8") == before


def test_baton_approve_refuses_to_overwrite_a_broken_approvals_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _samples(tmp_path)
    (folder / APPROVALS_FILE).write_text("welcome-tip: [\n", encoding="utf-8")

    code = main(["approve", "welcome-tip", "--by", "legal@example.com", "--path", str(folder)])

    assert code == 1
    assert "does not read: fix it first" in capsys.readouterr().err
    assert (folder / APPROVALS_FILE).read_text(encoding="utf-8") == "welcome-tip: [\n"


# -- baton validate ---------------------------------------------------------------------------


def test_r_canspam_3_baton_validate_refuses_a_marketing_template_edited_after_approval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the samples, approved, and then an edit to a marketing email's text
    folder = _samples(tmp_path)
    template = folder / "templates" / "welcome-tip.yaml"
    _edit(template, "A tip to get started", "A great tip to get started")

    # when validated
    code = main(["validate", str(folder), "--config", str(ROOT / "cdk.json")])

    # then it fails naming the file, the template, the locale, the channel, who approved it and when
    out = capsys.readouterr().out
    assert code == 1
    approval = read_approvals(folder / APPROVALS_FILE).entries["welcome-tip"]["en"]["email"]
    line = next(n for n, text in enumerate(template.read_text().splitlines(), 1) if text.strip() == "email:")
    assert (
        f"{template}:{line}: locales.en.email: template welcome-tip: en email content changed after "
        f"approval by {approval.by} on {approval.on}: run `baton approve welcome-tip --by EMAIL` after review"
    ) in out.splitlines()
    assert "1 issue." in out


def test_r_canspam_3_a_marketing_template_with_no_approval_on_record_does_not_validate(
    tmp_path: Path,
) -> None:
    folder = _samples(tmp_path)
    approvals = read_approvals(folder / APPROVALS_FILE)
    rest = Approvals({k: v for k, v in approvals.entries.items() if k != "lead-intro"})
    (folder / APPROVALS_FILE).write_text(rest.dump(), encoding="utf-8")

    issues = check_catalog(folder).issues

    assert {(Path(i.file).name, i.key) for i in issues} == {
        ("lead-intro.yaml", "locales.en.email"),
        ("lead-intro.yaml", "locales.pt-BR.email"),
    }
    assert all("has no approval in approvals.yaml" in issue.message for issue in issues)


# -- transactional templates --------------------------------------------------------------------


def test_transactional_templates_need_approval_only_when_the_deployment_asks(tmp_path: Path) -> None:
    folder = _samples(tmp_path)
    _edit(folder / "templates" / "order-shipped.yaml", "has shipped. Track it here", "is out. Track it")

    assert check_catalog(folder).ok  # default: transactional content needs no approval
    issues = check_catalog(folder, approve_transactional=True).issues
    assert [(Path(i.file).name, i.key) for i in issues] == [("order-shipped.yaml", "locales.en.sms")]
    approve_catalog(folder)
    assert check_catalog(folder, approve_transactional=True).ok


def test_cdk_json_approvals_transactional_is_off_by_default_and_reaches_the_functions() -> None:
    base = json.loads((ROOT / "cdk.json").read_text())["context"]["baton"]

    assert BatonConfig.model_validate(base).approvals.transactional is False
    on = BatonConfig.model_validate({**base, "approvals": {"transactional": True}})
    assert on.runtime_settings().approvals_transactional is True
    with pytest.raises(ValueError, match=r"approvals\.transactionl"):
        BatonConfig.model_validate({**base, "approvals": {"transactionl": True}})


def test_baton_validate_reads_the_transactional_switch_from_cdk_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _samples(tmp_path)
    _edit(folder / "templates" / "order-shipped.yaml", "has shipped. Track it here", "is out. Track it")
    context = json.loads((ROOT / "cdk.json").read_text())
    context["context"]["baton"]["approvals"] = {"transactional": True}
    (tmp_path / "cdk.json").write_text(json.dumps(context))

    assert main(["validate", str(folder), "--config", str(ROOT / "cdk.json")]) == 0
    assert main(["validate", str(folder), "--config", str(tmp_path / "cdk.json")]) == 1
    assert "template order-shipped: en sms content changed after approval" in capsys.readouterr().out
