"""The rule registry: every rule of the rulebook, where Baton enforces it, the tests that prove it,
and how to break it on purpose to watch those tests fail.

`baton rules` prints it (a table, `--json`, or the README's `--markdown`); `make rules-check`
(`python -m infra.rules_check`) applies each rule's breaks, one at a time, in a throwaway copy
of the project and runs the rule's tests there: a rule whose tests still pass with its code
broken is reported, because such a test cannot fail.

Statuses:
- `enforced`: the code enforces all of the rule that software can check.
- `partial`: the code enforces part of it; `operator` names what is left to the people running
  Baton, and why code cannot check it.
- `operator`: nothing in the rule is checkable by Baton's code (none today).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    ENFORCED = "enforced"
    PARTIAL = "partial"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Break:
    """Replace `old` (found exactly once in `path`) with `new`: the rule's code switched off."""

    path: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    jurisdictions: tuple[str, ...]
    status: Status
    where: tuple[str, ...]  # modules (and functions) that enforce it
    tests: tuple[str, ...]  # pytest node ids, each named with the rule's id
    breaks: tuple[Break, ...]
    operator: str = ""  # what is left to the people running Baton, and why

    @property
    def test_name(self) -> str:
        """The fragment every test of this rule carries in its name: `r_tcpa_2`."""
        return self.id.lower().replace("-", "_")


US = ("US",)
CA = ("CA",)
EU_UK = ("EU", "UK")
BR = ("BR",)
CARRIERS = ("US", "CA")  # CTIA and the 10DLC / short-code programmes
MAILBOXES = ("all",)  # Gmail, Yahoo and Outlook apply their rules to every sender
ALL = ("all",)

_GATE = "functions/baton/delivery/gate.py"
_RECORDING = "functions/baton/consent/recording.py"
_KEYWORDS = "functions/baton/sms/keywords.py"
_CATALOG = "functions/baton/journeys/catalog.py"
_FLOORS = "functions/baton/floors.py"
_SUBSCRIPTIONS = "functions/baton/subscriptions/service.py"

RULES: tuple[Rule, ...] = (
    # US: TCPA / FCC --------------------------------------------------------------------------
    Rule(
        "R-TCPA-1",
        "Marketing texts and calls need prior express written consent, with its proof",
        US,
        Status.ENFORCED,
        (f"{_GATE} (_marketing)", f"{_RECORDING} (_require_proof)"),
        (
            "tests/unit/test_delivery_gate.py::test_r_tcpa_1_marketing_sms_needs_granted_consent",
            "tests/unit/test_delivery_gate.py::test_r_tcpa_1_consent_given_for_another_number_does_not_cover_this_one",
            "tests/unit/test_delivery_service.py::test_r_tcpa_1_marketing_without_consent_is_refused",
            "tests/integration/test_consent_proof.py::test_r_tcpa_1_a_grant_without_its_proof_is_422_naming_the_field_and_writes_nothing",
        ),
        (
            Break(
                _GATE,
                "    if consent is None or consent.status != ConsentStatus.GRANTED:\n        return _refuse(Reason.NO_CONSENT, rule)\n",
                "",
            ),
            Break(
                _GATE, "        return _refuse(Reason.CONSENT_FOR_OTHER_ADDRESS, rule)\n", "        pass\n"
            ),
            Break(
                _RECORDING,
                "    if proof.consent_text is None and proof.text_version is None:\n",
                "    if False:\n",
            ),
        ),
    ),
    Rule(
        "R-TCPA-2",
        "Quiet hours 08:00-21:00 in the recipient's zone, stricter states by configuration",
        US,
        Status.ENFORCED,
        (f"{_GATE} (_timing)", "functions/baton/delivery/zones.py", f"{_FLOORS} (quiet hours)"),
        (
            "tests/unit/test_gate_rules.py::test_r_tcpa_2_marketing_sms_at_2130_local_is_held_until_0800",
            "tests/unit/test_gate_rules.py::test_r_tcpa_2_a_florida_number_gets_no_marketing_text_after_2000",
            "tests/unit/test_gate_rules.py::test_r_tcpa_2_the_contacts_own_zone_holds_a_text_the_numbers_zone_would_allow",
            "tests/unit/test_gate_rules.py::test_r_tcpa_2_a_number_with_no_zone_and_no_contact_zone_is_refused",
            "tests/unit/test_rule_floors.py::test_r_tcpa_2_quiet_hours_may_narrow_never_widen",
            "tests/integration/test_runner_journey_step.py::test_r_tcpa_2_a_text_at_night_is_held_then_sent_when_the_quiet_hours_end",
        ),
        (
            Break(
                _GATE,
                '        rules.append(_TimeRule(Reason.QUIET_HOURS, "R-TCPA-2", quiet, legal))\n',
                "",
            ),
            Break(
                _GATE,
                '        return by_place.get(region or "") or by_place.get(country or "") or self.quiet_hours\n',
                '        return by_place.get(country or "") or self.quiet_hours\n',
            ),
        ),
    ),
    Rule(
        "R-TCPA-3",
        "Revocation by any reasonable means; the FCC's words always revoke",
        US,
        Status.ENFORCED,
        (f"{_KEYWORDS} (classify, revocation phrases)", "functions/baton/inbound/service.py"),
        (
            "tests/unit/test_sms_keywords.py::test_r_tcpa_3_fcc_revocation_words_always_opt_out",
            "tests/integration/test_subscription_flows.py::test_r_tcpa_3_free_text_revocation_is_honoured",
            "tests/unit/test_consent_transitions.py::test_revocation_is_allowed_from_any_state_by_any_source_r_tcpa_3",
        ),
        (
            Break(_KEYWORDS, '    "REVOKE",\n', ""),
            Break(
                _KEYWORDS,
                '    if any(f" {phrase} " in padded for phrase in lists._phrases if phrase):\n',
                "    if False:\n",
            ),
        ),
    ),
    Rule(
        "R-TCPA-4",
        "A revocation counts before the very next send: strongly consistent reads at send time",
        US,
        Status.ENFORCED,
        ("functions/baton/consent/repository.py", "functions/baton/suppression/repository.py"),
        (
            "tests/integration/test_gate_reads.py::test_r_tcpa_4_every_consent_and_suppression_read_of_a_send_is_strongly_consistent",
            "tests/unit/test_delivery_service.py::test_r_tcpa_4_a_revocation_counts_before_the_very_next_send",
        ),
        (
            Break(
                "functions/baton/consent/repository.py",
                '            Key={"contact_id": to_value(contact_id), "sk": to_value(state_key(channel, topic))},\n            ConsistentRead=True,\n',
                '            Key={"contact_id": to_value(contact_id), "sk": to_value(state_key(channel, topic))},\n            ConsistentRead=False,\n',
            ),
            Break(
                "functions/baton/suppression/repository.py",
                'Key={"address_hash": to_value(address_hash)}, ConsistentRead=True',
                'Key={"address_hash": to_value(address_hash)}, ConsistentRead=False',
            ),
        ),
    ),
    Rule(
        "R-TCPA-5",
        "After an opt-out, at most one confirmation text, with no marketing in it",
        US,
        Status.ENFORCED,
        (f"{_GATE} (_opt_out_confirmation)", "functions/baton/inbound/service.py"),
        (
            "tests/unit/test_delivery_gate.py::test_r_tcpa_5_opt_out_confirmation_after_the_five_minute_window_is_refused",
            "tests/unit/test_delivery_service.py::test_r_tcpa_5_one_opt_out_confirmation_right_after_stop_then_nothing",
            "tests/integration/test_concurrent_sends.py::test_r_tcpa_5_stop_texts_handled_at_the_same_time_get_one_confirmation",
        ),
        (
            Break(
                _GATE,
                "    if suppression.since is None or facts.now - suppression.since > policy.opt_out_confirmation_window:\n",
                "    if suppression.since is None:\n",
            ),
        ),
    ),
    Rule(
        "R-TCPA-6",
        "The scope of an opt-out is a setting; by default all marketing on that channel",
        US,
        Status.ENFORCED,
        ("functions/baton/consent/service.py (revoke_all)", "functions/baton/settings.py (opt_out_scope)"),
        (
            "tests/integration/test_agent_consent.py::test_r_tcpa_6_an_agents_revocation_stops_all_marketing_on_the_channel",
            "tests/integration/test_agent_consent.py::test_r_tcpa_6_a_deployment_may_scope_a_revocation_to_its_topic",
            "tests/unit/test_consent_service.py::test_given_sms_topics_when_stop_revokes_all_sms_then_email_is_untouched_r_tcpa_6",
        ),
        (
            Break(
                "functions/baton/settings.py",
                '    opt_out_scope: Literal["channel", "topic"] = "channel"\n',
                '    opt_out_scope: Literal["channel", "topic"] = "topic"\n',
            ),
        ),
    ),
    # Carriers / CTIA ---------------------------------------------------------------------------
    Rule(
        "R-CTIA-1",
        "Opt-out keywords, whole message, any case; free text that revokes is never ignored",
        CARRIERS,
        Status.ENFORCED,
        (f"{_KEYWORDS}", "functions/baton/inbound/service.py"),
        (
            "tests/unit/test_sms_keywords.py::test_r_ctia_1_every_rulebook_opt_out_keyword_opts_out",
            "tests/unit/test_sms_keywords.py::test_r_ctia_1_opt_out_ignores_case_spacing_accents_and_surrounding_punctuation",
            "tests/unit/test_sms_keywords.py::test_r_ctia_1_free_text_that_revokes_is_likely_opt_out_never_ignored",
        ),
        (
            Break(_KEYWORDS, '    "DESCADASTRAR",\n', ""),
            Break(_KEYWORDS, '    folded = _EDGE_PUNCTUATION.sub("", _fold(text))\n', "    folded = text\n"),
        ),
    ),
    Rule(
        "R-CTIA-2",
        "HELP and AJUDA are answered with brand, support, frequency, rates and how to stop",
        CARRIERS,
        Status.ENFORCED,
        ("functions/baton/messages/texts.py (sms_help)", "functions/baton/inbound/service.py (_help)"),
        (
            "tests/unit/test_messages.py::test_r_ctia_2_help_reply_names_brand_support_frequency_rates_and_how_to_stop",
            "tests/unit/test_sms_keywords.py::test_r_ctia_2_help_and_ajuda_ask_for_help",
            "tests/integration/test_subscription_flows.py::test_r_ctia_2_help_is_answered_even_after_stop",
        ),
        (
            Break(
                "functions/baton/messages/templates/en/sms_help.txt",
                " Msg & data rates may apply.",
                "",
            ),
            Break(_KEYWORDS, 'DEFAULT_HELP = _words("HELP", "AJUDA")', 'DEFAULT_HELP = _words("HELP")'),
            Break(
                _GATE,
                '        return GateDecision(True, Reason.ALLOWED, "R-CTIA-2")\n',
                "        pass\n",
            ),
        ),
    ),
    Rule(
        "R-CTIA-3",
        "Every SMS opt-in gets one confirmation with brand, frequency, rates, STOP and HELP",
        CARRIERS,
        Status.PARTIAL,
        (
            f"{_RECORDING} (_confirm_sms_opt_in)",
            "functions/baton/messages/texts.py",
            "functions/baton/web/pages.py",
        ),
        (
            "tests/integration/test_agent_consent.py::test_r_ctia_3_an_sms_opt_in_an_agent_records_gets_one_confirmation",
            "tests/integration/test_contact_import.py::test_r_ctia_3_an_imported_sms_opt_in_gets_its_one_confirmation_text",
            "tests/unit/test_messages.py::test_r_ctia_3_sms_confirmation_request_names_brand_frequency_rates_yes_stop_help",
            "tests/integration/test_subscription_flows.py::test_r_ctia_3_sms_consent_is_granted_only_after_yes_and_a_confirmation_follows",
        ),
        (
            Break(
                _RECORDING,
                "            _confirm_sms_opt_in(services, grant.contact_id, grant.address, grant.locale)\n",
                "            pass\n",
            ),
        ),
        operator=(
            "A checkbox on the operator's own sign-up form is never pre-checked and never a condition"
            " of purchase: Baton's preference page starts unticked, but forms hosted elsewhere are"
            " the operator's."
        ),
    ),
    Rule(
        "R-CTIA-4",
        "After an opt-out only the person's new opt-in re-subscribes",
        CARRIERS,
        Status.ENFORCED,
        ("functions/baton/consent/transitions.py", "functions/baton/inbound/service.py (_opt_in)"),
        (
            "tests/unit/test_sms_keywords.py::test_r_ctia_4_start_and_unstop_opt_back_in",
            "tests/integration/test_subscription_flows.py::test_r_ctia_4_start_resubscribes_only_where_a_consent_existed",
            "tests/integration/test_subscription_flows.py::test_r_ctia_4_start_does_not_turn_a_request_never_confirmed_into_consent",
            "tests/unit/test_consent_transitions.py::test_given_an_opt_out_when_back_office_grants_then_refused_r_ctia_4",
        ),
        (
            Break(
                "functions/baton/inbound/service.py",
                "            if state.status == ConsentStatus.REVOKED and state.granted_at is not None\n",
                "            if state.status == ConsentStatus.REVOKED\n",
            ),
            Break(
                "functions/baton/consent/transitions.py",
                "    if current == ConsentStatus.REVOKED:\n",
                "    if False:\n",
            ),
        ),
    ),
    Rule(
        "R-CTIA-5",
        "Marketing texts say how to opt out, in every locale",
        CARRIERS,
        Status.ENFORCED,
        (f"{_CATALOG} (_check_template)",),
        (
            "tests/unit/test_catalog_checks.py::test_r_ctia_5_a_marketing_sms_says_how_to_opt_out_in_every_locale",
            "tests/unit/test_catalog_checks.py::test_r_ctia_5_a_transactional_sms_needs_no_opt_out_words",
        ),
        (
            Break(
                _CATALOG,
                "if template.purpose == Purpose.MARKETING and not _OPT_OUT_WORD.search(text):",
                "if False:",
            ),
        ),
    ),
    Rule(
        "R-SMS-1",
        "SMS parts and encoding per locale (GSM-7 160/153, UCS-2 70/67), a ceiling fails the build",
        ALL,
        Status.ENFORCED,
        ("functions/baton/sms/segments.py", f"{_CATALOG} (_check_sms)"),
        (
            "tests/unit/test_sms_segments.py::test_r_sms_1_gsm7_holds_160_in_one_part_and_153_per_part_when_split",
            "tests/unit/test_sms_segments.py::test_r_sms_1_one_character_outside_gsm7_makes_the_whole_message_ucs2",
            "tests/unit/test_catalog_checks.py::test_r_sms_1_sms_over_the_part_limit_reports_parts_and_encoding",
        ),
        (
            Break(
                "functions/baton/sms/segments.py",
                "PER_PART = {Encoding.GSM7: 153, Encoding.UCS2: 67}",
                "PER_PART = {Encoding.GSM7: 160, Encoding.UCS2: 70}",
            ),
            Break(_CATALOG, "        if count.parts > self.sms_max_parts:\n", "        if False:\n"),
        ),
    ),
    # US: CAN-SPAM ------------------------------------------------------------------------------
    Rule(
        "R-CANSPAM-1",
        "A working unsubscribe in every commercial email, for at least 30 days",
        US,
        Status.ENFORCED,
        (f"{_SUBSCRIPTIONS} (unsubscribe_page, unsubscribe)", f"{_FLOORS} (_link_lifetime)"),
        (
            "tests/integration/test_links_people_click.py::test_r_canspam_1_the_body_unsubscribe_link_opens_a_page_whose_button_unsubscribes",
        ),
        (
            Break(
                _SUBSCRIPTIONS,
                "        self._s.consent.revoke_all(contact.contact_id, channel, source, proof)\n",
                "",
            ),
        ),
    ),
    Rule(
        "R-CANSPAM-2",
        "Unsubscribing asks for nothing but the address: no login, no fee, one page",
        US,
        Status.ENFORCED,
        ("functions/baton/api/public.py (unsubscribe routes)", "functions/baton/web/pages.py"),
        (
            "tests/unit/test_web_pages.py::test_r_canspam_2_preference_page_shows_current_status_and_posts_back_without_login",
            "tests/unit/test_web_forms.py::test_r_canspam_2_the_unsubscribe_all_button_revokes_and_grants_nothing",
        ),
        (
            Break(
                "functions/baton/web/forms.py",
                "        return self.shown if self.unsubscribe_all else self.shown - self.checked\n",
                "        return self.shown - self.checked\n",
            ),
        ),
    ),
    Rule(
        "R-CANSPAM-3",
        "Commercial email shows a postal address; honest From and subject",
        US,
        Status.PARTIAL,
        (
            "functions/baton/journeys/lint.py (MARKETING_EMAIL_PLACEHOLDERS)",
            f"{_CATALOG} (_check_template)",
            "functions/baton/journeys/approvals.py (content_hash, Approvals.of)",
            f"{_GATE} (decide: not_approved)",
        ),
        (
            "tests/unit/test_catalog_checks.py::test_r_canspam_3_marketing_email_without_unsubscribe_and_postal_address",
            "tests/unit/test_catalog_checks.py::test_r_canspam_3_marketing_template_without_approved_by",
            "tests/unit/test_approvals.py::test_r_canspam_3_baton_validate_refuses_a_marketing_template_edited_after_approval",
            "tests/unit/test_approvals.py::test_r_canspam_3_a_marketing_template_with_no_approval_on_record_does_not_validate",
            "tests/infra/test_cdk_approvals.py::test_r_canspam_3_synth_fails_on_a_marketing_template_edited_after_approval",
            "tests/integration/test_approval_at_send.py::test_r_canspam_3_a_marketing_template_edited_after_approval_reaches_no_customer",
        ),
        (
            Break(
                "functions/baton/journeys/lint.py",
                'MARKETING_EMAIL_PLACEHOLDERS = ("unsubscribe_url", "postal_address")',
                'MARKETING_EMAIL_PLACEHOLDERS = ("unsubscribe_url",)',
            ),
            Break(_CATALOG, "                if not verdict.approved:\n", "                if False:\n"),
            Break(_GATE, "    if not request.content_approved:\n", "    if False:\n"),
        ),
        operator=(
            "Whether a From line and a subject are honest is a judgement on words: Baton sends a"
            " marketing template only with the content its counsel approved (journeys/approvals.yaml,"
            " bound by hash), and that person judges."
        ),
    ),
    Rule(
        "R-CANSPAM-4",
        "A journey's purpose decides the rules; a transactional journey cannot use a marketing topic",
        US,
        Status.PARTIAL,
        (f"{_CATALOG} (_check_journey, _check_send)", _GATE),
        (
            "tests/unit/test_catalog_checks.py::test_r_canspam_4_transactional_journey_cannot_use_a_marketing_topic",
            "tests/unit/test_catalog_checks.py::test_r_canspam_4_marketing_journey_using_a_transactional_template",
        ),
        (
            Break(
                _CATALOG,
                "        if journey.purpose == Purpose.TRANSACTIONAL and journey.topic in marketing_topics:\n",
                "        if False:\n",
            ),
            Break(_CATALOG, "        if template.purpose != journey.purpose:\n", "        if False:\n"),
        ),
        operator=(
            "Whether a message's primary purpose really is transactional is read from its words:"
            " the journey's owner declares it and the template's approver checks it."
        ),
    ),
    # Mailbox providers -------------------------------------------------------------------------
    Rule(
        "R-MBX-1",
        "List-Unsubscribe (https) and List-Unsubscribe-Post one-click headers, and a body link",
        MAILBOXES,
        Status.ENFORCED,
        ("functions/baton/delivery/mime.py", f"{_GATE} (_marketing)", "functions/baton/journeys/lint.py"),
        (
            "tests/unit/test_delivery_mime.py::test_r_mbx_1_marketing_mail_carries_both_one_click_headers_exactly",
            "tests/unit/test_delivery_mime.py::test_r_mbx_1_a_mailto_alone_is_not_an_unsubscribe_url",
            "tests/unit/test_delivery_gate.py::test_r_mbx_1_marketing_email_without_one_click_unsubscribe_is_refused",
            "tests/integration/test_delivery_ses.py::test_r_mbx_1_marketing_email_lands_with_one_click_unsubscribe_headers",
        ),
        (
            Break(
                "functions/baton/delivery/mime.py", '        mime["List-Unsubscribe-Post"] = ONE_CLICK\n', ""
            ),
            Break(
                _GATE,
                "    if request.channel == Channel.EMAIL and not request.has_unsubscribe_url:\n",
                "    if False:\n",
            ),
        ),
    ),
    Rule(
        "R-MBX-2",
        "The one-click endpoint: a POST with List-Unsubscribe=One-Click unsubscribes at once; a GET changes nothing",
        MAILBOXES,
        Status.ENFORCED,
        (
            "functions/baton/api/public.py (unsubscribe)",
            "functions/baton/web/forms.py (is_one_click_unsubscribe)",
        ),
        (
            "tests/integration/test_links_people_click.py::test_r_mbx_2_a_post_without_the_one_click_body_unsubscribes_nobody",
            "tests/unit/test_web_forms.py::test_r_mbx_2_one_click_body_urlencoded",
            "tests/integration/test_subscription_flows.py::test_r_mbx_2_one_click_unsubscribe_revokes_email_and_refuses_the_next_confirmation_and_marketing",
        ),
        (
            Break(
                "functions/baton/api/public.py",
                '    if not is_one_click_unsubscribe(_form_body(), router.current_event.headers.get("content-type")):\n',
                "    if False:\n",
            ),
        ),
    ),
    Rule(
        "R-MBX-3",
        "An unsubscribe is honoured at once",
        MAILBOXES,
        Status.ENFORCED,
        (f"{_SUBSCRIPTIONS} (_opt_out)", _GATE),
        (
            "tests/integration/test_delivery_dispatcher.py::test_r_mbx_3_unsubscribed_address_is_refused_and_the_refusal_is_on_the_timeline",
            "tests/integration/test_subscription_flows.py::test_r_mbx_3_an_unsubscribe_counts_at_once_and_for_the_address_itself",
        ),
        (
            Break(
                _SUBSCRIPTIONS,
                "            self._s.suppression.add(channel, address, SuppressionReason.OPT_OUT, source.value)\n",
                "            pass\n",
            ),
        ),
    ),
    Rule(
        "R-MBX-4",
        "Spam complaints: target under 0.10%, alarm before 0.30%",
        MAILBOXES,
        Status.PARTIAL,
        ("infra/constructs/observability.py (REPUTATION_ALARMS)",),
        (
            "tests/infra/test_cdk_observability.py::test_r_mbx_4_complaints_alarm_before_the_mailbox_providers_limit",
        ),
        (
            Break(
                "infra/constructs/observability.py",
                '    ("Reputation.ComplaintRate", "Complaint", 0.0005, 0.001),\n',
                '    ("Reputation.ComplaintRate", "Complaint", 0.003, 0.005),\n',
            ),
        ),
        operator=(
            "Keeping complaints under 0.10% takes lists people asked to be on and content they want:"
            " Baton alarms and suppresses each complainer, the operator acts on the alarm."
        ),
    ),
    Rule(
        "R-MBX-5",
        "Authenticated mail (Easy DKIM; SPF and DMARC documented) and confirmed double opt-in",
        MAILBOXES,
        Status.PARTIAL,
        (
            "infra/constructs/delivery.py (email identity)",
            f"{_SUBSCRIPTIONS} (confirm_page, confirm)",
            f"{_GATE} (_confirmation)",
        ),
        (
            "tests/integration/test_links_people_click.py::test_r_mbx_5_opening_the_confirmation_link_grants_nothing_and_its_button_confirms",
            "tests/integration/test_subscription_flows.py::test_r_mbx_5_email_consent_is_granted_only_when_the_link_is_followed",
            "tests/unit/test_delivery_gate.py::test_r_mbx_5_confirmation_request_only_to_the_address_that_asked",
            "tests/infra/test_cdk_delivery.py::test_r_mbx_5_the_sender_domain_signs_with_easy_dkim",
        ),
        (
            Break(
                _GATE,
                '    if not _same_address(request.channel, consent.address, request.address):\n        return _refuse(Reason.CONSENT_FOR_OTHER_ADDRESS, "R-MBX-5")\n',
                "",
            ),
            Break(
                "infra/constructs/delivery.py",
                "            dkim_signing=True,\n",
                "            dkim_signing=False,\n",
            ),
        ),
        operator=(
            "SPF and DMARC records live in the operator's DNS: the README gives the records;"
            " separate From addresses per message type are the operator's configuration."
        ),
    ),
    # EU: GDPR and ePrivacy ---------------------------------------------------------------------
    Rule(
        "R-GDPR-1",
        "Consent is specific, per purpose (topic) and channel, given by a clear act",
        EU_UK,
        Status.PARTIAL,
        (f"{_GATE} (_marketing)", "functions/baton/consent/transitions.py"),
        (
            "tests/unit/test_delivery_gate.py::test_r_gdpr_1_marketing_email_needs_granted_consent",
            "tests/unit/test_delivery_gate.py::test_r_gdpr_1_consent_is_per_topic_so_marketing_without_a_topic_is_refused",
        ),
        (Break(_GATE, "    if not request.topic:\n        return _refuse(Reason.NO_TOPIC, rule)\n", ""),),
        operator=(
            "That consent is not a condition of service and not bundled with other terms is decided"
            " on the operator's forms and contracts, outside Baton."
        ),
    ),
    Rule(
        "R-GDPR-2",
        "Consent is provable: who, when, what they were told, how, which topics, and withdrawal",
        EU_UK,
        Status.ENFORCED,
        (f"{_RECORDING} (_require_proof)", "functions/baton/consent/models.py (ConsentProof)"),
        (
            "tests/integration/test_consent_proof.py::test_r_gdpr_2_a_grant_with_its_proof_is_recorded_with_it",
            "tests/integration/test_consent_proof.py::test_r_gdpr_2_a_grant_recorded_elsewhere_names_who_recorded_it_and_when",
            "tests/unit/test_consent_service.py::test_given_a_form_request_then_consent_is_pending_with_its_proof_r_gdpr_2",
        ),
        (Break(_RECORDING, "        if proof.actor is None:\n", "        if False:\n"),),
    ),
    Rule(
        "R-GDPR-3",
        "Withdrawing is as easy as giving: one click, one keyword",
        EU_UK,
        Status.ENFORCED,
        (f"{_SUBSCRIPTIONS} (unsubscribe)", "functions/baton/inbound/service.py (_revoke)"),
        (
            "tests/integration/test_subscription_flows.py::test_r_gdpr_3_withdrawing_takes_one_click_or_one_keyword_as_giving_did",
        ),
        (
            Break(
                _SUBSCRIPTIONS,
                "        self._s.consent.revoke_all(contact.contact_id, channel, source, proof)\n",
                "",
            ),
            Break(
                "functions/baton/inbound/service.py",
                "        if keyword in _REVOKING:\n",
                "        if False:\n",
            ),
        ),
    ),
    Rule(
        "R-GDPR-4",
        "An objection to direct marketing is always honoured",
        EU_UK,
        Status.ENFORCED,
        (
            "functions/baton/consent/transitions.py (transition)",
            "functions/baton/consent/service.py (revoke)",
        ),
        (
            "tests/unit/test_consent_service.py::test_given_no_record_when_revoked_then_the_objection_is_kept_and_blocks_an_import_r_gdpr_4",
        ),
        (
            Break(
                "functions/baton/consent/transitions.py",
                "        return Transition.NO_OP if current == ConsentStatus.REVOKED else Transition.APPLY\n",
                "        return Transition.NO_OP if current in (ConsentStatus.REVOKED, None) else Transition.APPLY\n",
            ),
        ),
    ),
    Rule(
        "R-GDPR-5",
        "A complete machine-readable export; erasure from every table, a salted hash kept to suppress",
        EU_UK,
        Status.ENFORCED,
        (
            "functions/baton/privacy.py",
            "functions/baton/contacts/service.py (erase, export)",
            "functions/baton/data/dead_letters.py",
        ),
        (
            "tests/unit/test_delivery_gate.py::test_r_gdpr_5_an_erased_person_gets_nothing",
            "tests/integration/test_subscription_flows.py::test_r_gdpr_5_after_erasure_a_new_signup_gets_no_confirmation",
            "tests/integration/test_privacy_every_table.py::test_r_gdpr_5_after_erasure_no_table_and_no_log_line_holds_the_contact",
            "tests/unit/test_privacy_coverage.py::test_r_gdpr_5_every_table_a_deployment_names_has_an_export_and_erasure_entry",
            "tests/infra/test_cdk_dead_letters.py::test_r_gdpr_5_a_rule_with_a_dead_letter_queue_adds_nothing_to_the_event_it_hands_on",
            "tests/integration/test_dead_letter_erasure.py::test_r_gdpr_5_erasure_deletes_each_dead_letter_that_mentions_the_contact_in_any_form",
        ),
        (
            Break(
                "functions/baton/data/dead_letters.py",
                "                removed = self._delete(matching)\n",
                "                removed = len(matching)\n",
            ),
            Break(
                "functions/baton/contacts/service.py",
                "            for channel, address in self._confirmed(record, contact_id)\n        ]\n",
                "            for channel, address in []\n        ]\n",
            ),
            Break(
                "functions/baton/contacts/service.py",
                "        timeline_removed = self._timeline.delete_all(contact_id)\n",
                "        timeline_removed = 0\n",
            ),
            Break(
                "functions/baton/privacy.py",
                "        send_ledger_removed=DynamoOnceTable(settings.idempotency_table).delete_all(contact_id),\n",
                "",
            ),
            Break(
                "functions/baton/privacy.py",
                "        cap_counts_removed=DynamoCapLedger(settings.caps_table).delete_all(contact_id),\n",
                "",
            ),
        ),
    ),
    Rule(
        "R-EPR-1",
        "Soft opt-in: email only, from a sale, with a way out in every message, and its own expiry",
        EU_UK,
        Status.ENFORCED,
        (f"{_RECORDING} (_require_proof)", f"{_GATE} (_implied_lifetimes)"),
        (
            "tests/integration/test_consent_proof.py::test_r_epr_1_a_soft_opt_in_is_email_from_a_sale_and_ends_two_years_after_it",
        ),
        (
            Break(_RECORDING, "        if command.channel != Channel.EMAIL:\n", "        if False:\n"),
            Break(_GATE, "            Basis.SOFT_OPT_IN: timedelta(days=730),\n", ""),
        ),
    ),
    # Canada: CASL ------------------------------------------------------------------------------
    Rule(
        "R-CASL-1",
        "Express consent does not expire; implied consent expires 2 years after a purchase, 6 months after an inquiry",
        CA,
        Status.ENFORCED,
        (f"{_GATE} (_implied_lifetimes, _marketing)",),
        (
            "tests/unit/test_delivery_gate.py::test_r_casl_1_implied_consent_expires_express_consent_does_not",
            "tests/integration/test_consent_proof.py::test_r_casl_1_implied_consent_expires_two_years_from_the_purchase_not_from_the_import",
        ),
        (
            Break(_GATE, "            Basis.IMPLIED_PURCHASE: timedelta(days=730),\n", ""),
            Break(
                _GATE,
                "            Basis.IMPLIED_INQUIRY: timedelta(days=181),\n",
                "            Basis.IMPLIED_INQUIRY: timedelta(days=730),\n",
            ),
        ),
    ),
    Rule(
        "R-CASL-2",
        "Each message names the sender, a mailing address and a way to reach them",
        CA,
        Status.PARTIAL,
        ("infra/config.py (brandName, postalAddress, supportUrl)", "functions/baton/delivery/mime.py (From)"),
        (
            "tests/infra/test_cdk_config.py::test_r_casl_2_a_deployment_names_its_sender_a_mailing_address_and_a_way_to_reach_it",
            "tests/unit/test_delivery_mime.py::test_r_casl_2_mail_names_its_sender_in_from_with_to_subject_date_and_message_id",
        ),
        (
            Break("infra/config.py", "    postal_address: NonEmpty\n", '    postal_address: str = ""\n'),
            Break(
                "functions/baton/delivery/mime.py",
                'mime["From"] = Address(display_name=sender_name or "", addr_spec=sender)',
                'mime["From"] = Address(display_name="", addr_spec=sender)',
            ),
        ),
        operator=(
            "A marketing text has no room for a mailing address: its sender is named by the text and"
            " HELP gives the rest, which is the operator's programme to register with carriers."
        ),
    ),
    Rule(
        "R-CASL-3",
        "Unsubscribe free, by the same means, working for 60 days",
        CA,
        Status.ENFORCED,
        (
            f"{_FLOORS} (_link_lifetime)",
            "functions/baton/tokens/signer.py",
            "functions/baton/settings.py (token_ttl_days)",
        ),
        ("tests/unit/test_rule_floors.py::test_r_casl_3_links_must_work_for_60_days",),
        (Break(_FLOORS, "MIN_LINK_DAYS = 60", "MIN_LINK_DAYS = 30"),),
    ),
    # Brazil ------------------------------------------------------------------------------------
    Rule(
        "R-LGPD-1",
        "Consent provable, for a specific purpose, revocable by a simple procedure",
        BR,
        Status.ENFORCED,
        (f"{_RECORDING} (_require_proof)", "functions/baton/consent/commands.py (topic)"),
        (
            "tests/integration/test_consent_proof.py::test_r_lgpd_1_consent_names_its_purpose_and_its_words_or_is_void",
        ),
        (
            Break(
                _RECORDING,
                "    if proof.consent_text is None and proof.text_version is None:\n",
                "    if False:\n",
            ),
        ),
    ),
    Rule(
        "R-LGPD-2",
        "Data-subject rights: confirmation, access (a full electronic copy), correction, deletion, revocation",
        BR,
        Status.ENFORCED,
        ("functions/baton/privacy.py (export_contact)", "functions/baton/api/private.py (export, erase)"),
        (
            "tests/integration/test_privacy_every_table.py::test_r_lgpd_2_the_export_holds_what_every_table_keeps_on_the_contact",
        ),
        (
            Break(
                "functions/baton/privacy.py",
                "        subjects=DynamoSubjectRepository(settings.subjects_table).of_contact(contact_id, names),\n",
                "        subjects=[],\n",
            ),
            Break(
                "functions/baton/privacy.py",
                "        tasks=[TaskView.of(t) for t in DynamoTaskRepository(settings.tasks_table).of_contact(contact_id)],\n",
                "        tasks=[],\n",
            ),
        ),
    ),
    Rule(
        "R-BR-1",
        "Marketing calls in Brazil's calling window, never Sundays or national holidays; the Não Me Perturbe list an operator loads",
        BR,
        Status.ENFORCED,
        (
            f"{_GATE} (_timing, _marketing)",
            "functions/baton/delivery/defaults.py",
            f"{_FLOORS} (calling windows)",
            "functions/baton/do_not_contact/service.py (load, commit)",
        ),
        (
            "tests/unit/test_gate_rules.py::test_r_br_1_marketing_call_to_brazil_on_sunday_is_held_until_monday_0900",
            "tests/unit/test_gate_rules.py::test_r_br_1_no_marketing_calls_on_good_friday_whichever_date_easter_falls_on",
            "tests/unit/test_rule_floors.py::test_r_br_1_a_calling_window_may_narrow_never_widen_or_go",
            "tests/unit/test_delivery_gate.py::test_r_br_1_a_marketing_text_or_call_to_a_listed_number_is_refused_despite_granted_consent",
            "tests/integration/test_do_not_contact.py::test_r_br_1_a_loaded_list_refuses_marketing_texts_and_calls_to_its_numbers",
            "tests/integration/test_do_not_contact.py::test_r_br_1_a_reload_without_a_number_releases_it_and_deletes_the_older_generation",
            "tests/integration/test_do_not_contact.py::test_r_br_1_a_load_cut_short_leaves_the_list_in_force_as_it_was",
            "tests/integration/test_do_not_contact.py::test_r_br_1_an_opt_out_of_a_listed_number_survives_a_reload_without_it",
            "tests/integration/test_do_not_contact.py::test_r_br_1_a_commit_short_of_what_it_announces_is_409_naming_it_and_changes_nothing",
        ),
        (
            Break(
                _GATE,
                '            rules.append(_TimeRule(Reason.CALLING_WINDOW, "R-BR-1", calling, legal))\n',
                "            pass\n",
            ),
            Break(
                _GATE,
                "    if listed is not None and request.channel in policy.do_not_contact_channels:\n",
                "    if False:\n",
            ),
            Break(
                "functions/baton/do_not_contact/service.py",
                "        if shortfalls:\n",
                "        if False:\n",
            ),
        ),
        operator=(
            "Loading the current register is the operator's: Baton cannot fetch it (it is published to"
            " registered companies), so `baton dnc load` takes the file they download."
        ),
    ),
    # Amazon SES --------------------------------------------------------------------------------
    Rule(
        "R-SES-1",
        "Read the account's quota and send rate (GetAccount) and never pass them; a sandbox mails only verified addresses",
        ALL,
        Status.ENFORCED,
        ("functions/baton/delivery/ses_account.py", "functions/baton/delivery/pacing.py"),
        (
            "tests/integration/test_delivery_ses_limits.py::test_r_ses_1_a_used_up_daily_quota_holds_the_email_without_asking_ses_to_send",
            "tests/integration/test_delivery_ses_limits.py::test_r_ses_1_a_sandbox_account_mails_verified_recipients_and_refuses_the_rest",
            "tests/integration/test_delivery_ses_limits.py::test_r_ses_1_the_maximum_send_rate_paces_emails_across_senders",
            "tests/unit/test_delivery_throughput.py::test_r_ses_1_the_quota_is_never_passed_by_what_went_out_since_the_read",
        ),
        (
            Break(
                "functions/baton/delivery/ses_account.py",
                "    if limits.sent_last_24_hours + since_read + 1 > limits.max_24_hour_send:\n",
                "    if limits.sent_last_24_hours + 1 > limits.max_24_hour_send:\n",
            ),
            Break(
                "functions/baton/delivery/ses_account.py",
                "        if not limits.production_access and not self._account.may_receive_in_sandbox(address):\n",
                "        if False:\n",
            ),
            Break(
                "functions/baton/delivery/ses_account.py",
                "        self._pacer.reserve(SesAccount.provider, ACCOUNT_LANE, 1, Rate.per_second(limits.max_send_rate))\n",
                "",
            ),
        ),
    ),
    Rule(
        "R-SES-2",
        "Alarms on bounces above 2% (review 5%) and complaints above 0.05% (review 0.1%)",
        ALL,
        Status.ENFORCED,
        ("infra/constructs/observability.py (REPUTATION_ALARMS)",),
        (
            "tests/infra/test_cdk_observability.py::test_r_ses_2_bounces_and_complaints_alarm_early_and_at_the_review_level",
        ),
        (
            Break(
                "infra/constructs/observability.py",
                '    ("Reputation.BounceRate", "Bounce", 0.02, 0.05),\n',
                '    ("Reputation.BounceRate", "Bounce", 0.05, 0.1),\n',
            ),
        ),
    ),
    Rule(
        "R-SES-3",
        "Hard bounces and complaints suppress at once (SES account list too); a complaint revokes email marketing",
        ALL,
        Status.ENFORCED,
        ("functions/baton/feedback/service.py", "infra/constructs/delivery.py (account suppression)"),
        (
            "tests/unit/test_feedback_service.py::test_r_ses_3_a_hard_bounce_suppresses_the_address_and_is_on_the_timeline",
            "tests/unit/test_feedback_service.py::test_r_ses_3_a_complaint_suppresses_and_revokes_marketing_email_consent_with_the_complaint_as_proof",
            "tests/infra/test_cdk_delivery.py::test_r_ses_3_account_suppression_is_on_for_bounces_and_complaints",
        ),
        (
            Break(
                "functions/baton/feedback/service.py",
                "                self._consent.revoke_all(contact_id, receipt.channel, Source.COMPLAINT, proof)\n",
                "                pass\n",
            ),
        ),
    ),
    Rule(
        "R-SES-4",
        "No SES contact list: Baton's consent ledger is the source of truth",
        ALL,
        Status.ENFORCED,
        ("infra/constructs/delivery.py",),
        ("tests/infra/test_cdk_delivery.py::test_r_ses_4_the_template_creates_no_ses_contact_list",),
        (
            Break(
                "infra/constructs/delivery.py",
                "        self.dead_letter_queue = self._build_dead_letter_queue()\n",
                '        self.dead_letter_queue = self._build_dead_letter_queue()\n        ses.CfnContactList(self, "Contacts")\n',
            ),
        ),
    ),
    # AWS End User Messaging --------------------------------------------------------------------
    Rule(
        "R-EUM-1",
        "Message parts per second per origination identity, never spread across numbers",
        ALL,
        Status.PARTIAL,
        (
            "functions/baton/delivery/throughput.py",
            "functions/baton/delivery/pacing.py",
            "functions/baton/delivery/eum.py",
        ),
        (
            "tests/unit/test_delivery_throughput.py::test_r_eum_1_parts_per_second_by_identity",
            "tests/integration/test_delivery_pacing.py::test_r_eum_1_a_10dlc_number_is_handed_at_most_one_part_a_second",
            "tests/integration/test_delivery_pacing.py::test_r_eum_1_an_identity_of_unknown_type_gets_the_slowest_rate",
            "tests/unit/test_delivery_throughput.py::test_r_eum_1_configuration_faster_than_the_rulebook_is_refused_with_key_and_rule",
        ),
        (
            Break(
                "functions/baton/delivery/throughput.py",
                "        IdentityType.US_10DLC: 1,\n",
                "        IdentityType.US_10DLC: 10,\n",
            ),
            Break(
                "functions/baton/delivery/throughput.py",
                "UNKNOWN_TYPE_PARTS_PER_SECOND = min(PARTS_PER_SECOND.values())",
                "UNKNOWN_TYPE_PARTS_PER_SECOND = max(PARTS_PER_SECOND.values())",
            ),
        ),
        operator=(
            "Texts through End User Messaging are paced per origination identity; texts through SNS"
            " (no identity configured) and voice calls are not: AWS applies the account's own limit"
            " there and a throttled send is retried."
        ),
    ),
    Rule(
        "R-EUM-2",
        "With self-managed opt-outs Baton answers HELP and STOP itself and keeps the opt-out list",
        ALL,
        Status.ENFORCED,
        ("functions/baton/inbound/service.py", "infra/constructs/delivery.py (inbound topic)"),
        (
            "tests/infra/test_cdk_journeys.py::test_r_eum_2_every_function_that_answers_or_sends_texts_may_use_end_user_messaging",
        ),
        (
            Break(
                "infra/constructs/delivery.py", "        self._grant_end_user_messaging(function, role)\n", ""
            ),
        ),
    ),
    # Reliability -------------------------------------------------------------------------------
    Rule(
        "R-REL-1",
        "Journeys run as Standard workflows, no longer than a year; a long loop hands over before 25,000 events",
        ALL,
        Status.ENFORCED,
        (
            "infra/constructs/journeys.py",
            "functions/baton/journeys/durations.py",
            "infra/journeys/compiler.py",
            "functions/baton/journeys/graph.py",
            "functions/baton/triggers/continuation.py",
        ),
        (
            "tests/infra/test_cdk_journeys.py::test_r_rel_1_the_state_machine_is_standard_logs_every_state_without_data_and_traces",
            "tests/unit/test_journey_models.py::test_r_rel_1_no_wait_is_longer_than_a_year",
            "tests/unit/test_continue_compiler.py::test_r_rel_1_every_loop_of_the_state_graph_counts_a_turn",
            "tests/unit/test_continue_compiler.py::test_r_rel_1_the_turns_allowed_keep_an_execution_under_the_history_limit",
            "tests/unit/test_continue_compiler.py::test_r_rel_1_the_start_resumes_each_continued_run_where_it_was_handed_on",
            "tests/unit/test_continuations.py::test_r_rel_1_an_exit_while_the_run_is_handed_on_stops_the_new_execution",
            "tests/unit/test_continuations.py::test_r_rel_1_an_erasure_while_the_run_is_handed_on_leaves_nothing_of_the_contact",
            "tests/unit/test_triggers_service.py::test_r_rel_1_an_exit_also_stops_the_execution_a_run_was_handed_on_to_meanwhile",
            "tests/integration/test_long_runs.py::test_r_rel_1_a_looping_run_goes_on_in_new_executions_each_under_the_history_limit",
            "tests/integration/test_long_runs.py::test_r_rel_1_a_send_held_for_a_long_time_goes_out_once_from_the_execution_the_run_continued_in",
            "tests/e2e/test_local_long_runs.py::test_r_rel_1_an_email_held_for_hours_goes_out_once_from_the_execution_the_run_continued_in",
            "tests/infra/test_cdk_journeys.py::test_r_rel_1_the_private_api_and_the_journey_function_may_start_only_the_journeys_state_machines",
        ),
        (
            Break(
                "infra/constructs/journeys.py",
                "        state_machine_type=sfn.StateMachineType.STANDARD,\n",
                "        state_machine_type=sfn.StateMachineType.EXPRESS,\n",
            ),
            Break(
                "functions/baton/journeys/durations.py",
                "MAX_SECONDS = 365 * 86_400",
                "MAX_SECONDS = 2 * 365 * 86_400",
            ),
            Break(
                "infra/journeys/compiler.py",
                'number_greater_than_equals(f"{TURNS_PATH}.n", limit)',
                'number_greater_than_equals(f"{TURNS_PATH}.n", limit + 10_000)',
            ),
            Break(
                "infra/journeys/compiler.py",
                "    for index in sorted(loop_heads(journey)):",
                "    for index in sorted(loop_heads(journey) - loop_heads(journey)):",
            ),
            Break(
                "functions/baton/triggers/continuation.py",
                "        if self._exited(subject, old_name, name):",
                "        if False:",
            ),
            Break(
                "functions/baton/triggers/continuation.py",
                "        if self.subjects.get(old_name) is None:",
                "        if False:",
            ),
            Break(
                "functions/baton/triggers/service.py",
                "        while self._exit_once(journey, event, keep=keep):\n            pass",
                "        self._exit_once(journey, event, keep=keep)",
            ),
            Break(
                "infra/constructs/journeys.py",
                "        self.grant_executions(self.function)\n",
                "",
            ),
        ),
    ),
    Rule(
        "R-REL-2",
        "Deterministic execution names from the trigger's idempotency key",
        ALL,
        Status.ENFORCED,
        ("functions/baton/triggers/naming.py", "functions/baton/triggers/service.py"),
        (
            "tests/unit/test_triggers_service.py::test_r_rel_2_the_same_key_again_answers_the_same_and_records_nothing_new",
            "tests/unit/test_triggers_service.py::test_r_rel_2_execution_names_are_deterministic_and_fit_step_functions_rules",
            "tests/unit/test_catalog_checks.py::test_r_rel_2_a_journey_id_leaves_room_for_the_execution_name",
        ),
        (
            Break(
                "functions/baton/triggers/naming.py",
                "    material = json.dumps(values, ensure_ascii=False)\n",
                '    material = json.dumps([*values, __import__("uuid").uuid4().hex], ensure_ascii=False)\n',
            ),
        ),
    ),
    Rule(
        "R-REL-3",
        "Every callback task sets TimeoutSeconds",
        ALL,
        Status.ENFORCED,
        ("infra/journeys/compiler.py (callback tasks)",),
        (
            "tests/infra/test_cdk_events.py::test_r_rel_3_every_callback_task_of_the_stack_sets_timeout_seconds",
            "tests/infra/test_cdk_handoff.py::test_r_rel_3_the_handoff_waits_on_its_token_for_the_sla_and_catches_the_timeout",
        ),
        (
            Break(
                "infra/journeys/compiler.py",
                "            task_timeout=sfn.Timeout.duration(Duration.seconds(timeout_seconds)),\n",
                "",
            ),
        ),
    ),
    Rule(
        "R-REL-4",
        "Throttling and 5xx retry with capped exponential backoff and full jitter, at one layer",
        ALL,
        Status.ENFORCED,
        (
            "infra/journeys/compiler.py (_retry)",
            "functions/baton/aws.py (single-attempt clients)",
            "functions/baton/runner/send.py (held after the last retry)",
            "infra/constructs/campaigns.py (a campaign batch's retries)",
        ),
        (
            "tests/infra/test_cdk_journeys.py::test_r_rel_4_tasks_retry_with_full_jitter_and_catch_into_the_fail_task",
            "tests/integration/test_runner_journey_step.py::test_r_rel_4_journey_delivery_clients_make_a_single_attempt",
            "tests/unit/test_runner_tasks.py::test_r_rel_4_unavailable_or_throttled_provider_raises_the_error_step_functions_retries",
            "tests/unit/test_runner_tasks.py::test_r_rel_4_on_its_last_retry_a_send_the_provider_still_refuses_holds_and_asks_again_later",
            "tests/integration/test_send_exactly_once.py::test_r_rel_4_a_send_throttled_past_its_retries_is_held_and_goes_out_later_once_never_failed",
            "tests/infra/test_cdk_campaigns.py::test_r_rel_4_a_batch_retries_paused_every_minute_unfinished_at_once_and_throttled_with_backoff",
        ),
        (
            Break("infra/journeys/compiler.py", "        jitter_strategy=sfn.JitterType.FULL,\n", ""),
            Break(
                "functions/baton/runner/send.py",
                "delivery.retryable and request.last_attempt:",
                "delivery.retryable and False:",
            ),
        ),
    ),
    Rule(
        "R-REL-5",
        "Every asynchronous consumer has a dead-letter queue with a depth alarm; failed executions alarm",
        ALL,
        Status.ENFORCED,
        (
            "infra/constructs/delivery.py",
            "infra/constructs/events.py",
            "infra/constructs/feedback.py",
            "infra/constructs/schedules.py",
            "infra/constructs/journeys.py",
            "infra/constructs/campaigns.py",
        ),
        (
            "tests/infra/test_cdk_observability.py::test_r_rel_5_every_asynchronous_consumer_has_a_dead_letter_queue_with_a_depth_alarm",
            "tests/infra/test_cdk_journeys.py::test_r_rel_5_a_failed_execution_raises_an_alarm",
            "tests/infra/test_cdk_campaigns.py::test_r_rel_5_a_failed_campaign_run_raises_an_alarm",
        ),
        (
            Break(
                "infra/constructs/delivery.py",
                "            subscriptions.LambdaSubscription(function, dead_letter_queue=self.dead_letter_queue)\n",
                "            subscriptions.LambdaSubscription(function)\n",
            ),
            Break(
                "infra/constructs/schedules.py",
                "            metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),\n",
                '            metric=queue.metric("NumberOfMessagesSent", period=Duration.minutes(1)),\n',
            ),
        ),
        operator=(
            "Redriving a dead-lettered message is a person's decision after reading why it failed:"
            " the README gives the steps."
        ),
    ),
    Rule(
        "R-REL-6",
        "The send step is idempotent: a retried delivery never sends twice",
        ALL,
        Status.ENFORCED,
        ("functions/baton/runner/send.py", "functions/baton/runner/once.py", "functions/baton/data/once.py"),
        (
            "tests/unit/test_runner_tasks.py::test_r_rel_6_a_retried_task_after_a_send_never_sends_twice",
            "tests/integration/test_runner_journey_step.py::test_r_rel_6_the_same_send_task_run_twice_sends_one_text_and_keeps_the_record",
            "tests/integration/test_send_exactly_once.py::test_r_rel_6_an_invocation_killed_after_ses_took_the_email_is_not_sent_again_by_the_retry",
            "tests/integration/test_send_exactly_once.py::test_r_rel_6_a_failing_table_write_after_ses_took_the_email_ends_with_one_email_on_the_timeline",
            "tests/integration/test_once_table.py::test_r_rel_6_of_two_invocations_claiming_one_key_exactly_one_owns_it",
        ),
        (
            Break(
                "functions/baton/runner/send.py",
                "        if settled or journal.state == ACCEPTED or (reached and not resend):\n",
                "        if False:\n",
            ),
            Break(
                "functions/baton/data/once.py",
                '            condition = "attribute_not_exists(id) OR expiration <= :now"\n',
                '            condition = "attribute_not_exists(id) OR attribute_exists(id) OR expiration <= :now"\n',
            ),
        ),
    ),
)

BY_ID = {rule.id: rule for rule in RULES}


def as_json() -> str:
    return json.dumps([asdict(rule) for rule in RULES], indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def as_markdown() -> str:
    """The README's Rules table (a test keeps the README equal to this)."""
    lines = [
        "| Rule | What | Where | Status | Tests |",
        "|------|------|-------|--------|-------|",
    ]
    for rule in RULES:
        where = "<br>".join(f"`{_cell(place)}`" for place in rule.where)
        tests = len(rule.tests)
        status = str(rule.status) + (f": {_cell(rule.operator)}" if rule.operator else "")
        lines.append(
            f"| {rule.id} ({', '.join(rule.jurisdictions)}) | {_cell(rule.title)} | {where} | {status} |"
            f" {tests} |"
        )
    return "\n".join(lines) + "\n"


README_START = "<!-- rules:start -->"
README_END = "<!-- rules:end -->"


def readme_table(readme: str) -> str:
    """The table between the README's markers."""
    start = readme.index(README_START) + len(README_START)
    return readme[start : readme.index(README_END)].strip() + "\n"


def with_table(readme: str) -> str:
    """The README with its table replaced by the registry's."""
    start = readme.index(README_START) + len(README_START)
    return f"{readme[:start]}\n{as_markdown()}{readme[readme.index(README_END) :]}"


def as_text() -> str:
    out = []
    for rule in RULES:
        out.append(f"{rule.id}  [{rule.status}]  {', '.join(rule.jurisdictions)}  {rule.title}")
        for place in rule.where:
            out.append(f"    where: {place}")
        for test in rule.tests:
            out.append(f"    test:  {test}")
        if rule.operator:
            out.append(f"    left:  {rule.operator}")
    counts = {status: sum(1 for rule in RULES if rule.status is status) for status in Status}
    out.append(
        f"{len(RULES)} rules: "
        + ", ".join(f"{count} {status}" for status, count in counts.items())
        + f"; {sum(len(rule.tests) for rule in RULES)} tests, {sum(len(rule.breaks) for rule in RULES)} breaks"
    )
    return "\n".join(out) + "\n"
