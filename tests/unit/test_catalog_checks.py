"""`baton validate` / `load_catalog`: every check names the file, the line and the key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from baton.journeys.catalog import CatalogIssue, check_catalog, load_catalog
from baton.journeys.exceptions import CatalogError
from baton.sms.segments import Encoding
from tests.approvals import approve_catalog

NOTE = """\
template: note
owner: ops@example.com
purpose: transactional
locales:
  en:
    email: {subject: "Hi {{ contact.first_name }}", text: "Your order {{ event.order_id }}."}
    sms: {text: "Order {{ event.order_id }} shipped."}
"""

PROMO = """\
template: promo
owner: growth@example.com
purpose: marketing
approved_by: legal@example.com
locales:
  en:
    email:
      subject: "News from {{ brand }}"
      html: "<p>News</p><a href='{{ unsubscribe_url }}'>Unsubscribe</a> {{ postal_address }}"
      text: "News. Unsubscribe: {{ unsubscribe_url }} {{ postal_address }}"
"""

ORDER = """\
journey: order
owner: ops@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: order.shipped}
steps:
  - id: notify
    send: {template: note, channels: [sms, email]}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (paths relative to the journeys folder) and return the folder."""
    folder = root / "journeys"
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    approve_catalog(folder)  # the approval check stays on; its own tests edit after approving
    return folder


def steps_text(text: str) -> str:
    """Steps to append to a journey: dedented, then list items indented by two spaces."""
    return textwrap.indent(textwrap.dedent(text), "  ")


def issues_of(root: Path, files: dict[str, str], **options: int) -> list[CatalogIssue]:
    folder = write(root, {"templates/note.yaml": NOTE, "templates/promo.yaml": PROMO, **files})
    return check_catalog(folder, **options).issues


def where(issues: list[CatalogIssue]) -> list[tuple[str, int, str]]:
    return [(Path(issue.file).name, issue.line, issue.key) for issue in issues]


def only(issues: list[CatalogIssue]) -> CatalogIssue:
    assert len(issues) == 1, "\n".join(str(issue) for issue in issues)
    return issues[0]


# -- a valid catalog -------------------------------------------------------------------------------


def test_a_valid_catalog_loads_with_lookups_by_event(tmp_path: Path) -> None:
    exiting = ORDER.replace("steps:", "exit_on: [order.cancelled]\nsteps:")
    folder = write(
        tmp_path, {"templates/note.yaml": NOTE, "templates/promo.yaml": PROMO, "order.yaml": exiting}
    )

    catalog = load_catalog(folder)

    assert list(catalog.journeys) == ["order"]
    assert sorted(catalog.templates) == ["note", "promo"]
    assert [j.journey for j in catalog.journeys_for_event("order.shipped")] == ["order"]
    assert [j.journey for j in catalog.journeys_exiting_on("order.cancelled")] == ["order"]
    assert catalog.journeys_for_event("order.cancelled") == []


def test_load_catalog_raises_catalog_error_listing_every_issue(tmp_path: Path) -> None:
    folder = write(tmp_path, {"order.yaml": ORDER})  # template `note` does not exist

    with pytest.raises(CatalogError) as raised:
        load_catalog(folder)

    assert [str(issue) for issue in raised.value.issues] == [
        f"{folder / 'order.yaml'}:8: steps[0].send.template: no template 'note' in journeys/templates/"
    ]
    assert str(raised.value).splitlines()[1] == str(raised.value.issues[0])


def test_a_missing_folder_is_one_issue(tmp_path: Path) -> None:
    report = check_catalog(tmp_path / "nowhere")

    assert [(issue.line, issue.key) for issue in report.issues] == [(0, "")]
    assert "no such folder" in report.issues[0].message


# -- file and model errors -------------------------------------------------------------------------


def test_unknown_key_is_named_with_its_line_and_a_suggestion(tmp_path: Path) -> None:
    text = ORDER.replace("channels: [sms, email]", "chanels: [sms, email]")

    issues = issues_of(tmp_path, {"order.yaml": text})

    assert ("order.yaml", 8, "steps[0].send.chanels") in where(issues)
    unknown = next(issue for issue in issues if issue.key == "steps[0].send.chanels")
    assert "did you mean 'channels'?" in unknown.message
    assert "allowed: template, channels, window, confirm_delivery" in unknown.message
    assert ("order.yaml", 8, "steps[0].send.channels") in where(issues)  # and it is required


def test_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    text = ORDER.replace("owner: ops@example.com", "owner: ops@example.com\nteam: ops")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (3, "team")
    assert issue.message.startswith("unknown key 'team'")


def test_bad_duration_names_the_accepted_forms(tmp_path: Path) -> None:
    text = ORDER + "  - id: pause\n    wait: {duration: 3days}\n"

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (10, "steps[1].wait.duration")
    assert "'3days' is not a duration" in issue.message
    assert "30s, 4h, 2d" in issue.message


def test_unknown_channel_shows_the_value_given(tmp_path: Path) -> None:
    text = ORDER.replace("channels: [sms, email]", "channels: [fax]")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (8, "steps[0].send.channels[0]")
    assert "'fax'" in issue.message


def test_a_condition_without_an_operator_is_named_at_its_key(tmp_path: Path) -> None:
    text = ORDER + steps_text("""\
      - id: route
        branch:
          cases:
            - when: {attribute: plan}
              next: end
          default: end
    """)

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (12, "steps[1].branch.cases[0].when")
    assert "exactly one of equals, in, exists, gt, lt" in issue.message


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    text = ORDER.replace("owner: ops@example.com", "owner: ops@example.com\ndescription: Note: broken")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (3, "")
    assert "not valid YAML" in issue.message
    assert "quotes" in issue.message


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    text = ORDER.replace("review_by: 2027-01-01", "review_by: 2027-01-01\nreview_by: 2027-02-01")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (5, "review_by")
    assert "given twice" in issue.message


def test_yml_files_are_reported_not_read(tmp_path: Path) -> None:
    issue = only(issues_of(tmp_path, {"order.yml": ORDER}))

    assert Path(issue.file).name == "order.yml"
    assert "`.yaml`" in issue.message


def test_times_and_dates_read_as_written_without_quotes(tmp_path: Path) -> None:
    # YAML 1.1 would read 18:00 as the number 1080; the catalog reads YAML the 1.2 way.
    text = ORDER.replace(
        "channels: [sms, email]}", "channels: [sms, email], window: {start: 09:00, end: 18:00}}"
    )
    folder = write(tmp_path, {"templates/note.yaml": NOTE, "order.yaml": text})

    send = load_catalog(folder).journey("order").steps[0].send

    assert send is not None
    assert send.window is not None
    assert (send.window.start, send.window.end) == ("09:00", "18:00")


# -- ids --------------------------------------------------------------------------------------------


def test_journey_id_must_be_the_file_name(tmp_path: Path) -> None:
    issue = only(issues_of(tmp_path, {"orders.yaml": ORDER}))

    assert (Path(issue.file).name, issue.line, issue.key) == ("orders.yaml", 1, "journey")
    assert "must be the file name" in issue.message


def test_template_id_must_be_the_file_name(tmp_path: Path) -> None:
    issues = issues_of(tmp_path, {"templates/notes.yaml": NOTE.replace("note", "other", 1)})

    assert ("notes.yaml", 1, "template") in where(issues)


def test_an_id_with_capitals_is_refused_with_the_rule(tmp_path: Path) -> None:
    text = ORDER.replace("id: notify", "id: Notify")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (7, "steps[0].id")
    assert "lowercase letters, digits and '-'" in issue.message


def test_step_ids_are_unique_and_end_is_reserved(tmp_path: Path) -> None:
    text = ORDER + "  - id: notify\n    wait: {duration: 1d}\n  - id: end\n    wait: {duration: 1d}\n"

    issues = issues_of(tmp_path, {"order.yaml": text})

    assert ("order.yaml", 9, "steps[1].id") in where(issues)
    assert ("order.yaml", 11, "steps[2].id") in where(issues)
    assert "used twice" in issues[0].message
    assert "reserved" in issues[1].message


# -- the step graph ---------------------------------------------------------------------------------

FLOW = """\
journey: flow
owner: ops@example.com
purpose: transactional
review_by: 2027-01-01
trigger: {event: order.shipped}
steps:
  - id: first
    send: {template: note, channels: [email]}
  - id: pause
    wait: {duration: 1d}
  - id: second
    send: {template: note, channels: [email]}
"""


def test_next_pointing_nowhere_suggests_the_step_meant(tmp_path: Path) -> None:
    text = FLOW.replace(
        "channels: [email]}\n  - id: pause", "channels: [email]}\n    next: secnd\n  - id: pause"
    )

    issues = issues_of(tmp_path, {"flow.yaml": text})

    assert ("flow.yaml", 9, "steps[0].next") in where(issues)
    assert "no step 'secnd' in this journey (or `end`); did you mean 'second'?" in issues[0].message


def test_branch_targets_pointing_nowhere_are_errors(tmp_path: Path) -> None:
    text = FLOW + steps_text("""\
      - id: route
        branch:
          cases:
            - when: {attribute: plan, equals: gold}
              next: gold
          default: silver
    """)

    issues = issues_of(tmp_path, {"flow.yaml": text})

    assert where(issues) == [
        ("flow.yaml", 17, "steps[3].branch.cases[0].next"),
        ("flow.yaml", 18, "steps[3].branch.default"),
    ]


def test_a_step_nothing_leads_to_is_unreachable(tmp_path: Path) -> None:
    text = FLOW.replace(
        "channels: [email]}\n  - id: pause", "channels: [email]}\n    next: end\n  - id: pause"
    )

    issues = issues_of(tmp_path, {"flow.yaml": text})

    # `pause` is unreachable; `second` is only reachable from `pause`, so it is reported too.
    assert where(issues) == [("flow.yaml", 10, "steps[1]"), ("flow.yaml", 12, "steps[2]")]
    assert issues[0].message == "step 'pause' is unreachable: no step leads to it"


def test_a_loop_without_a_wait_is_an_error(tmp_path: Path) -> None:
    text = FLOW + "    next: second\n"  # second -> second, at once, forever

    issue = only(issues_of(tmp_path, {"flow.yaml": text}))

    assert (issue.line, issue.key) == (13, "steps[2].next")
    assert "the loop second has no wait" in issue.message


def test_a_loop_through_a_branch_without_a_wait_is_an_error(tmp_path: Path) -> None:
    text = FLOW + steps_text("""\
      - id: route
        branch:
          cases:
            - when: {delivered: second}
              next: end
          default: second
    """)

    issue = only(issues_of(tmp_path, {"flow.yaml": text}))

    assert (issue.line, issue.key) == (18, "steps[3].branch.default")
    assert "the loop second -> route has no wait" in issue.message


def test_a_loop_through_a_wait_is_allowed(tmp_path: Path) -> None:
    text = FLOW + "    next: pause\n"

    assert issues_of(tmp_path, {"flow.yaml": text}) == []


# -- conditions -------------------------------------------------------------------------------------


def branch_on(condition: str) -> str:
    return FLOW + steps_text(f"""\
      - id: route
        branch:
          cases:
            - when: {condition}
              next: end
          default: end
    """)


def test_a_condition_on_a_step_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    issue = only(issues_of(tmp_path, {"flow.yaml": branch_on("{delivered: frist}")}))

    assert (issue.line, issue.key) == (16, "steps[3].branch.cases[0].when.delivered")
    assert issue.message == "no step 'frist' in this journey"


def test_a_condition_on_a_later_step_is_an_error(tmp_path: Path) -> None:
    text = branch_on("{any: [{attribute: vip, equals: true}, {delivered: later}]}") + steps_text("""\
      - id: later
        send: {template: note, channels: [email]}
    """)

    issues = issues_of(tmp_path, {"flow.yaml": text.replace("default: end", "default: later")})

    issue = only(issues)
    assert (issue.line, issue.key) == (16, "steps[3].branch.cases[0].when.any[1].delivered")
    assert "does not come before this branch" in issue.message


def test_a_condition_on_a_step_of_the_wrong_kind_is_an_error(tmp_path: Path) -> None:
    issue = only(issues_of(tmp_path, {"flow.yaml": branch_on("{not: {event_received: first}}")}))

    assert issue.key == "steps[3].branch.cases[0].when.not.event_received"
    assert issue.message == "step 'first' is a send, not a wait for an event"


def test_channel_used_on_a_channel_the_step_never_sends_is_an_error(tmp_path: Path) -> None:
    issue = only(issues_of(tmp_path, {"flow.yaml": branch_on("{channel_used: {step: first, is: sms}}")}))

    assert issue.key == "steps[3].branch.cases[0].when.channel_used.is"
    assert "never true" in issue.message


def test_conditions_on_earlier_steps_of_the_right_kind_pass(tmp_path: Path) -> None:
    condition = "{all: [{delivered: first}, {channel_used: {step: second, is: email}}]}"

    assert issues_of(tmp_path, {"flow.yaml": branch_on(condition)}) == []


# -- purpose, topics, templates --------------------------------------------------------------------


def test_marketing_journey_without_topic_points_at_purpose(tmp_path: Path) -> None:
    text = ORDER.replace("purpose: transactional", "purpose: marketing").replace("note", "promo")
    text = text.replace("[sms, email]", "[email]")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (3, "topic")
    assert "R-TCPA-1" in issue.message


def test_r_canspam_4_transactional_journey_cannot_use_a_marketing_topic(tmp_path: Path) -> None:
    news = (
        ORDER.replace("journey: order", "journey: news")
        .replace("purpose: transactional", "purpose: marketing\ntopic: news")
        .replace("note", "promo")
        .replace("[sms, email]", "[email]")
    )
    order = ORDER.replace("purpose: transactional", "purpose: transactional\ntopic: news")

    issue = only(issues_of(tmp_path, {"news.yaml": news, "order.yaml": order}))

    assert (Path(issue.file).name, issue.line, issue.key) == ("order.yaml", 4, "topic")
    assert "R-CANSPAM-4" in issue.message


def test_a_journey_sending_a_template_that_does_not_exist(tmp_path: Path) -> None:
    text = ORDER.replace("template: note", "template: nope")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (8, "steps[0].send.template")
    assert "no template 'nope'" in issue.message


def test_r_canspam_4_marketing_journey_using_a_transactional_template(tmp_path: Path) -> None:
    text = ORDER.replace("purpose: transactional", "purpose: marketing\ntopic: news")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (9, "steps[0].send.template")
    assert "'note' is transactional, this journey is marketing" in issue.message


def test_a_channel_the_template_lacks_in_en_is_an_error_at_the_channel(tmp_path: Path) -> None:
    text = ORDER.replace("[sms, email]", "[sms, voice]")

    issue = only(issues_of(tmp_path, {"order.yaml": text}))

    assert (issue.line, issue.key) == (8, "steps[0].send.channels[1]")
    assert issue.message == "template 'note' has no voice content in en, the last fallback"


def test_a_locale_lacking_a_channel_a_journey_sends_is_reported_in_the_template(tmp_path: Path) -> None:
    note = NOTE + '  pt-BR:\n    email: {subject: "Oi", text: "Seu pedido."}\n'

    issue = only(issues_of(tmp_path, {"templates/note.yaml": note, "order.yaml": ORDER}))

    assert (Path(issue.file).name, issue.line, issue.key) == ("note.yaml", 8, "locales.pt-BR")
    assert issue.message.startswith("no sms content, which journey order (step notify) sends")


def test_a_template_without_en_is_an_error(tmp_path: Path) -> None:
    note = NOTE.replace("  en:", "  pt:")

    issues = issues_of(tmp_path, {"templates/note.yaml": note})

    assert where(issues) == [("note.yaml", 4, "locales")]
    assert "`en`" in issues[0].message


def test_r_canspam_3_marketing_template_without_approved_by(tmp_path: Path) -> None:
    promo = PROMO.replace("approved_by: legal@example.com\n", "")

    issue = only(issues_of(tmp_path, {"templates/promo.yaml": promo}))

    assert (Path(issue.file).name, issue.line, issue.key) == ("promo.yaml", 3, "approved_by")
    assert "R-CANSPAM-3" in issue.message


def test_r_canspam_3_marketing_email_without_unsubscribe_and_postal_address(tmp_path: Path) -> None:
    promo = PROMO.replace(' {{ postal_address }}"', '"').replace(
        'text: "News. Unsubscribe: {{ unsubscribe_url }}', 'text: "News.'
    )

    issues = issues_of(tmp_path, {"templates/promo.yaml": promo})

    assert where(issues) == [
        ("promo.yaml", 9, "locales.en.email.html"),
        ("promo.yaml", 10, "locales.en.email.text"),
    ]
    assert issues[0].message == "a marketing email shows {{ postal_address }} (R-CANSPAM-3, R-MBX-1)"
    assert issues[1].message.startswith(
        "a marketing email shows {{ unsubscribe_url }} and {{ postal_address }}"
    )


def test_transactional_email_needs_no_unsubscribe_link(tmp_path: Path) -> None:
    assert issues_of(tmp_path, {"order.yaml": ORDER}) == []


# -- template text ----------------------------------------------------------------------------------


def test_jinja_syntax_error_names_the_line_inside_a_block(tmp_path: Path) -> None:
    note = NOTE.replace(
        "    sms:", "    voice:\n      text: |\n        Hello.\n        Order {{ event.order_id }\n    sms:"
    )

    issue = only(issues_of(tmp_path, {"templates/note.yaml": note}))

    assert (issue.line, issue.key) == (10, "locales.en.voice.text")
    assert "Jinja syntax error" in issue.message


def test_a_variable_outside_the_contract_is_an_error(tmp_path: Path) -> None:
    note = NOTE.replace("Order {{ event.order_id }}", "Order {{ order.id }}")

    issue = only(issues_of(tmp_path, {"templates/note.yaml": note}))

    assert (issue.line, issue.key) == (7, "locales.en.sms.text")
    assert issue.message.startswith("unknown variable `order`: a template sees only brand, contact, event")


def test_a_contact_field_that_does_not_exist_points_to_attributes(tmp_path: Path) -> None:
    note = NOTE.replace("contact.first_name", "contact.plan")

    issue = only(issues_of(tmp_path, {"templates/note.yaml": note}))

    assert issue.key == "locales.en.email.subject"
    assert "contact.attributes.plan" in issue.message


def test_r_sms_1_sms_over_the_part_limit_reports_parts_and_encoding(tmp_path: Path) -> None:
    note = NOTE.replace('sms: {text: "Order {{ event.order_id }} shipped."}', f'sms: {{text: "{"x" * 200}"}}')

    issue = only(issues_of(tmp_path, {"templates/note.yaml": note}, sms_max_parts=1))

    assert (issue.line, issue.key) == (7, "locales.en.sms.text")
    assert issue.message == (
        "about 2 SMS parts (GSM-7, 200 units with typical values), over the limit of 1 (R-SMS-1)"
    )


def test_r_sms_1_estimate_counts_variables_at_a_typical_length_and_names_ucs2_characters(
    tmp_path: Path,
) -> None:
    note = NOTE.replace(
        'sms: {text: "Order {{ event.order_id }} shipped."}', 'sms: {text: "Olá {{ contact.first_name }}"}'
    )
    folder = write(tmp_path, {"templates/note.yaml": note})

    (estimate,) = check_catalog(folder).sms

    assert (estimate.template, estimate.locale, estimate.encoding) == ("note", "en", Encoding.UCS2)
    assert (estimate.units, estimate.parts, estimate.forcing_ucs2) == (14, 1, ("á",))  # "Olá " + 10


# -- segments ---------------------------------------------------------------------------------------

SCHEDULED = """\
journey: monthly
owner: growth@example.com
purpose: marketing
topic: news
review_by: 2027-01-01
trigger: {schedule: "cron(0 9 1 * ? *)", segment: gold}
steps:
  - id: send
    send: {template: promo, channels: [email]}
"""


def test_a_schedule_trigger_needs_an_existing_segment(tmp_path: Path) -> None:
    issue = only(issues_of(tmp_path, {"monthly.yaml": SCHEDULED}))

    assert (issue.line, issue.key) == (6, "trigger.segment")
    assert issue.message == "no segment 'gold' in segments/ (known: none)"


def test_a_segment_tests_attributes_only(tmp_path: Path) -> None:
    segment = """\
    segment: gold
    owner: growth@example.com
    when:
      all:
        - {attribute: tier, equals: gold}
        - {delivered: welcome}
    """

    issue = only(issues_of(tmp_path, {"monthly.yaml": SCHEDULED, "segments/gold.yaml": segment}))

    assert (Path(issue.file).name, issue.line, issue.key) == ("gold.yaml", 6, "when.all[1]")
    assert "attributes only" in issue.message


def test_each_channel_a_locale_lacks_is_reported_once(tmp_path: Path) -> None:
    note = NOTE + '  pt-BR:\n    voice: {text: "Oi"}\n'
    again = ORDER.replace("journey: order", "journey: again")

    issues = issues_of(tmp_path, {"templates/note.yaml": note, "order.yaml": ORDER, "again.yaml": again})

    assert [(issue.key, issue.message.split(",")[0]) for issue in issues] == [
        ("locales.pt-BR", "no sms content"),
        ("locales.pt-BR", "no email content"),
    ]


def test_r_rel_2_a_journey_id_leaves_room_for_the_execution_name(tmp_path: Path) -> None:
    name = "a" * 40
    issue = only(issues_of(tmp_path, {f"{name}.yaml": ORDER.replace("journey: order", f"journey: {name}")}))

    assert (issue.line, issue.key) == (1, "journey")
    assert issue.message.startswith("at most 39 characters")


# -- what counts as valid, and the deployment's languages ------------------------------------------


def test_a_journey_file_with_an_issue_is_not_counted_valid(tmp_path: Path) -> None:
    broken = ORDER.replace("journey: order", "journey: broken").replace("template: note", "template: nothing")
    folder = write(
        tmp_path,
        {
            "templates/note.yaml": NOTE,
            "templates/promo.yaml": PROMO,
            "order.yaml": ORDER,
            "broken.yaml": broken,
        },
    )

    report = check_catalog(folder)

    assert [Path(issue.file).name for issue in report.issues] == ["broken.yaml"]
    assert sorted(report.catalog.journeys) == ["order"]


def test_a_template_with_an_issue_is_not_counted_valid(tmp_path: Path) -> None:
    folder = write(tmp_path, {"templates/note.yaml": NOTE.replace("{{ event.order_id }}.", "{{ evnt.id }}.")})

    report = check_catalog(folder)

    assert report.issues
    assert report.catalog.templates == {}


def test_a_template_lacking_a_declared_locale_is_an_error_not_a_fallback_to_english(tmp_path: Path) -> None:
    folder = write(tmp_path, {"templates/note.yaml": NOTE, "order.yaml": ORDER})

    issue = only(check_catalog(folder, locales=("en", "pt-BR")).issues)

    assert (Path(issue.file).name, issue.line, issue.key) == ("note.yaml", 4, "locales")
    assert issue.message.startswith("no pt-BR: the deployment declares en, pt-BR")
    assert check_catalog(folder).issues == []  # a deployment that speaks English only


TEXT_PROMO = """\
template: text-promo
owner: growth@example.com
purpose: marketing
approved_by: legal@example.com
locales:
  en:
    sms: {text: "News from {{ brand }}: 20% off this week. Reply STOP to opt out."}
  pt-BR:
    sms: {text: "Novidades de {{ brand }}: 20% de desconto."}
"""


@pytest.mark.parametrize(
    ("english", "flagged"),
    [
        ("News from {{ brand }}: 20% off this week. Reply STOP to opt out.", ["pt-BR"]),
        ("News from {{ brand }}: 20% off this week. Reply stop to opt out.", ["en", "pt-BR"]),
        ("News from {{ brand }}: 20% off. Reply TD to end.", ["en", "pt-BR"]),
    ],
)
def test_r_ctia_5_a_marketing_sms_says_how_to_opt_out_in_every_locale(
    tmp_path: Path, english: str, flagged: list[str]
) -> None:
    text = TEXT_PROMO.replace("News from {{ brand }}: 20% off this week. Reply STOP to opt out.", english)
    issues = check_catalog(write(tmp_path, {"templates/text-promo.yaml": text})).issues

    assert [issue.key for issue in issues] == [f"locales.{locale}.sms.text" for locale in flagged]
    assert all(issue.message.endswith("(R-CTIA-5)") for issue in issues)


def test_r_ctia_5_a_transactional_sms_needs_no_opt_out_words(tmp_path: Path) -> None:
    assert check_catalog(write(tmp_path, {"templates/note.yaml": NOTE})).issues == []
