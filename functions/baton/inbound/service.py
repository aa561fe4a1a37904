"""What Baton does with an inbound text: record it, then act on its keyword.

- STOP and friends (R-CTIA-1), and a free-text revocation (R-TCPA-3): suppress the number
  first (the one write that stops every send at the gate), then revoke every SMS consent of
  every contact on it and withdraw every pending request naming it. The text that opted the
  number out owes one confirmation (R-TCPA-5): its retries still owe it, a second STOP does not.
- HELP/AJUDA: answer with brand, support, frequency, rates and how to stop (R-CTIA-2).
- START/UNSTOP: the number's own new opt-in lifts its opt-out and re-grants only consents that
  had been granted (R-CTIA-4); a request that was never confirmed stays revoked.
- YES/SIM answers the last question the number was asked (double opt-in, R-CTIA-3): of the
  requests naming this exact number (on the contacts holding it and the sign-ups waiting for
  it), the one whose confirmation text went out last. It confirms that request, and only if it
  is still pending, was asked within `confirm_ttl_days` and the number is not suppressed.
  Older requests stay pending and expire. A request the gate refused (an opted-out number) was
  never asked, so no YES confirms it; a YES never lifts an opt-out: after an opt-out only START
  or a YES to an offer sent after it re-subscribes (R-CTIA-4), and none is sent while it lasts.
- Anything else: on the timeline, nothing more.

Every answer goes out at most once per inbound message, whatever retries (`replies`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from baton.bootstrap import Services
from baton.consent.models import ConsentProof, ConsentState
from baton.consent.vocabulary import Channel, ConsentStatus, Source
from baton.contacts.models import Contact
from baton.contacts.normalize import normalize_phone
from baton.data.once import DynamoOnceTable, InProgress
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.service import SendContext
from baton.inbound.models import InboundSms
from baton.inbound.replies import ATTEMPTING, INVOCATION_ENDED, SENT, Replies
from baton.messages import builtins, texts
from baton.messages.builtins import BuiltIn
from baton.sms.keywords import InboundKeyword, classify, keyword_lists
from baton.suppression.models import SuppressionReason
from baton.timeline.models import TimelineKind
from baton.triggers.announce import subscription_confirmed

_REVOKING = frozenset({InboundKeyword.OPT_OUT, InboundKeyword.LIKELY_OPT_OUT})


@dataclass(frozen=True)
class InboundResult:
    keyword: InboundKeyword
    contacts: tuple[str, ...]
    changed: int  # consent entries written
    replied: bool


@dataclass(frozen=True)
class _Question:
    """One confirmation request the number was asked: the contact and its request's states
    (one per topic, all asked at the same moment)."""

    contact: Contact
    states: tuple[ConsentState, ...]

    @property
    def order(self) -> tuple[datetime, str]:
        """Newest asked last; requests asked at the same moment in a fixed order."""
        head = self.states[0]
        assert head.asked_at is not None  # only asked requests are questions
        return head.asked_at, head.request_id or ""


class InboundSmsService:
    def __init__(self, services: Services, replies: Replies | None = None) -> None:
        """`replies`: where each answer is kept once per inbound message (the idempotency
        table by default)."""
        self._s = services
        self._settings = services.settings
        self._replies = replies or Replies(
            DynamoOnceTable(services.settings.idempotency_table), services.clock
        )
        # The deployment's own words too (cdk.json `delivery.smsKeywords`), never fewer.
        self._keywords = keyword_lists(services.settings.sms_keywords)

    def handle(self, sms: InboundSms) -> InboundResult:
        keyword = classify(sms.message_body, self._keywords)
        number = normalize_phone(sms.origination_number)
        contacts = self._s.contacts.find_by_phone(number)
        text = sms.message_body.strip()
        inbound = _Inbound(sms.inbound_message_id, number)
        proof = ConsentProof(message_id=sms.inbound_message_id, consent_text=text[:5000] or None)
        revoked = None
        if keyword in _REVOKING:
            # The opt-out is honoured before anything else is written: if recording the reply
            # or sending the confirmation fails, the retry finds the consent already revoked.
            revoked = self._revoke(inbound, keyword, contacts, proof)
        for contact in contacts:
            self._s.timeline.record(
                contact.contact_id,
                TimelineKind.INBOUND_REPLY,
                {
                    "channel": Channel.SMS.value,
                    "from": number,
                    "text": sms.message_body,
                    "keyword": keyword.value,
                    "message_id": sms.inbound_message_id,
                },
            )
        if revoked is not None:
            return self._confirm_opt_out(inbound, keyword, contacts, *revoked)
        if keyword == InboundKeyword.HELP:
            return self._help(inbound, contacts)
        if keyword == InboundKeyword.OPT_IN:
            return self._opt_in(inbound, contacts, proof)
        if keyword == InboundKeyword.CONFIRM:
            return self._confirm(inbound, keyword, contacts, proof)
        return InboundResult(keyword, _ids(contacts), 0, replied=False)

    def _revoke(
        self, inbound: _Inbound, keyword: InboundKeyword, contacts: list[Contact], proof: ConsentProof
    ) -> tuple[int, bool]:
        """Suppress the number, then revoke every SMS consent on it: (entries written, whether
        this text is the one that opted the number out and so owes the confirmation)."""
        number = inbound.number
        # First: from this write on, the gate refuses every send to the number, so a failure
        # in the revocations below can leave nothing that still reaches it. The inbound message
        # id makes the opt-out this text's own: a retry of it still owes the confirmation; a
        # second STOP, or one handled at the same moment, does not (R-TCPA-5).
        owed = self._s.suppression.add_first(
            Channel.SMS,
            number,
            SuppressionReason.OPT_OUT,
            f"keyword:{keyword.value}",
            claim=inbound.message_id,
        )
        # A free-text "please stop texting me" revokes too: revocation by any reasonable means
        # (R-TCPA-3); the timeline marks it so a person can review the classification. The
        # sign-ups still waiting for this number's YES are withdrawn with it.
        changed = sum(
            len(self._s.consent.revoke_all(contact.contact_id, Channel.SMS, Source.KEYWORD, proof))
            for contact in [*contacts, *self._signups(number, contacts)]
        )
        return changed, owed

    def _confirm_opt_out(
        self,
        inbound: _Inbound,
        keyword: InboundKeyword,
        contacts: list[Contact],
        changed: int,
        owed: bool,
    ) -> InboundResult:
        replied = False
        if owed:
            locale = _locale(contacts)
            text = texts.sms_opt_out_confirmed(locale=locale, brand=self._settings.brand_name).text
            replied = self._reply(
                inbound, contacts, text, Purpose.OPT_OUT_CONFIRMATION, BuiltIn.SMS_OPT_OUT_CONFIRMED
            )
        return InboundResult(keyword, _ids(contacts), changed, replied)

    def _help(self, inbound: _Inbound, contacts: list[Contact]) -> InboundResult:
        locale = _locale(contacts)
        text = texts.sms_help(
            locale=locale,
            brand=self._settings.brand_name,
            support_url=self._settings.support_url,
            frequency=self._s.sms_frequency(locale),
        ).text
        replied = self._reply(inbound, contacts, text, Purpose.HELP_REPLY, BuiltIn.SMS_HELP)
        return InboundResult(InboundKeyword.HELP, _ids(contacts), 0, replied)

    def _opt_in(self, inbound: _Inbound, contacts: list[Contact], proof: ConsentProof) -> InboundResult:
        """START/UNSTOP: the number's own new opt-in; re-grants only what had been granted (R-CTIA-4)."""
        self._lift_opt_out(inbound.number)
        regranted = [
            (contact, state)
            for contact in contacts
            for state in self._sms_states(contact, inbound.number)
            # A request its owner never confirmed was no consent: START does not make it one.
            if state.status == ConsentStatus.REVOKED and state.granted_at is not None
        ]
        changed = self._grant(regranted, proof)
        replied = changed > 0 and self._opt_in_confirmed(inbound, contacts)
        return InboundResult(InboundKeyword.OPT_IN, _ids(contacts), changed, replied)

    def _confirm(
        self, inbound: _Inbound, keyword: InboundKeyword, contacts: list[Contact], proof: ConsentProof
    ) -> InboundResult:
        """YES/SIM completes the last confirmation request the number was asked (R-CTIA-3).

        A sign-up that named this number as a new address waits for this very YES: the
        number's owner confirms it, and only then does it become that contact's phone.
        """
        question = self._open_question(inbound.number, [*contacts, *self._signups(inbound.number, contacts)])
        if question is None:
            return InboundResult(keyword, _ids(contacts), 0, replied=False)
        contact = question.contact
        changed = self._grant([(contact, state) for state in question.states], proof)
        if contact.phone != inbound.number:
            self._s.contacts.confirm_address(contact.contact_id, Channel.SMS, inbound.number)
        topics = sorted(state.topic for state in question.states)
        subscription_confirmed(self._s, contact.contact_id, Channel.SMS.value, topics)
        everyone = {**{c.contact_id: c for c in contacts}, contact.contact_id: contact}
        replied = self._opt_in_confirmed(inbound, [contact])
        return InboundResult(keyword, tuple(everyone), changed, replied)

    def _open_question(self, number: str, candidates: list[Contact]) -> _Question | None:
        """The newest request asked of the number, if a YES may still confirm it."""
        asked = [
            _Question(contact, tuple(states))
            for contact in candidates
            for states in _by_request(self._sms_states(contact, number))
        ]
        if not asked:
            return None
        newest = max(asked, key=lambda question: question.order)
        asked_at, _ = newest.order
        if any(state.status != ConsentStatus.PENDING for state in newest.states):
            return None  # answered or withdrawn already: a YES does not reach back to older ones
        if self._s.clock.now() - asked_at > timedelta(days=self._settings.confirm_ttl_days):
            return None  # expired, like its link would be
        if self._s.suppression.check(Channel.SMS, number) is not None:
            return None  # opted out (or erased, bounced) since: only START lifts it (R-CTIA-4)
        return newest

    def _signups(self, number: str, contacts: list[Contact]) -> list[Contact]:
        """The sign-up contacts waiting for this number's YES (not already among `contacts`)."""
        known = {contact.contact_id for contact in contacts}
        return [
            signup
            for signup in self._s.contacts.find_by_pending_phone(number)
            if signup.contact_id not in known
        ]

    def _sms_states(self, contact: Contact, number: str) -> list[ConsentState]:
        return [
            state
            for state in self._s.consent.states(contact.contact_id)
            if state.channel == Channel.SMS and state.address == number
        ]

    def _grant(self, states: list[tuple[Contact, ConsentState]], proof: ConsentProof) -> int:
        """Grant, on the number's own keyword, each of these SMS consents."""
        for contact, state in states:
            self._s.consent.grant(
                contact.contact_id, Channel.SMS, state.topic, source=Source.KEYWORD, proof=proof
            )
        return len(states)

    def _lift_opt_out(self, number: str) -> None:
        """Only the number's own opt-out is lifted by its keyword, never a bounce or an erasure."""
        entry = self._s.suppression.check(Channel.SMS, number)
        if entry is not None and entry.reason == SuppressionReason.OPT_OUT:
            self._s.suppression.remove(Channel.SMS, number)

    def _opt_in_confirmed(self, inbound: _Inbound, contacts: list[Contact]) -> bool:
        locale = _locale(contacts)
        text = texts.sms_opt_in_confirmed(
            locale=locale, brand=self._settings.brand_name, frequency=self._s.sms_frequency(locale)
        ).text
        return self._reply(inbound, contacts, text, Purpose.TRANSACTIONAL, BuiltIn.SMS_OPT_IN_CONFIRMED)

    def _reply(
        self, inbound: _Inbound, contacts: list[Contact], text: str, purpose: Purpose, builtin: BuiltIn
    ) -> bool:
        """One text to the number, recorded on the first contact's timeline (a shared number
        gets one reply, not one per contact), and never twice for one inbound message."""
        contact_id = contacts[0].contact_id if contacts else None
        message = OutboundMessage.sms(to=inbound.number, purpose=purpose, text=text)
        reply = self._replies.of(inbound.message_id, purpose)
        labels = builtins.labels(builtin)
        dispatcher = self._s.dispatcher
        if reply.state is None:
            try:
                return dispatcher.send(contact_id, message, SendContext(labels=labels, journal=reply)).sent
            except Exception:
                reply.abandon()
                raise
        if reply.leased():
            raise InProgress("the reply to this inbound message is being sent by another invocation")
        provider = str(reply.data.get("provider", ""))
        context = SendContext(labels=labels)
        if reply.state == SENT:
            # Out already: finish its recording (the same event, if it was), send nothing.
            provider_message_id = str(reply.data.get("provider_message_id", ""))
            return dispatcher.record_sent(
                contact_id, message, provider, provider_message_id, context, reply.stamp()
            ).sent
        if reply.state == ATTEMPTING:
            # The invocation that called the provider ended without its answer: it may be out.
            reply.ambiguous(provider, INVOCATION_ENDED)
        code = str(reply.data.get("error_code", INVOCATION_ENDED))
        dispatcher.record_unknown(contact_id, message, provider, code, context, reply.stamp())
        return False


@dataclass(frozen=True)
class _Inbound:
    """The text being answered: its provider id (what its answers are kept under) and number."""

    message_id: str
    number: str


def _by_request(states: list[ConsentState]) -> list[list[ConsentState]]:
    """The asked requests among `states`, each with the states (topics) it covers."""
    groups: dict[tuple[datetime, str | None], list[ConsentState]] = {}
    for state in states:
        if state.asked_at is not None:
            groups.setdefault((state.asked_at, state.request_id), []).append(state)
    return list(groups.values())


def _ids(contacts: list[Contact]) -> tuple[str, ...]:
    return tuple(contact.contact_id for contact in contacts)


def _locale(contacts: list[Contact]) -> str | None:
    return next((contact.locale for contact in contacts if contact.locale), None)
