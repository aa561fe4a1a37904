"""What Baton does with an inbound text: record it, then act on its keyword.

- STOP and friends (R-CTIA-1), and a free-text revocation (R-TCPA-3): revoke every SMS
  consent of every contact on that number, suppress the number, send one confirmation
  (R-TCPA-5) unless the number was already opted out.
- HELP/AJUDA: answer with brand, support, frequency, rates and how to stop (R-CTIA-2).
- START/UNSTOP: lift the opt-out and re-grant only consents that existed (R-CTIA-4).
- YES/SIM: confirm pending SMS consent for this exact number (double opt-in, R-CTIA-3).
- Anything else: on the timeline, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from baton.bootstrap import Services
from baton.consent.models import ConsentProof
from baton.consent.vocabulary import Channel, ConsentStatus, Source
from baton.contacts.models import Contact
from baton.contacts.normalize import normalize_phone
from baton.delivery.message import OutboundMessage, Purpose
from baton.inbound.models import InboundSms
from baton.messages import texts
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


class InboundSmsService:
    def __init__(self, services: Services) -> None:
        self._s = services
        self._settings = services.settings
        # The deployment's own words too (cdk.json `delivery.smsKeywords`), never fewer.
        self._keywords = keyword_lists(services.settings.sms_keywords)

    def handle(self, sms: InboundSms) -> InboundResult:
        keyword = classify(sms.message_body, self._keywords)
        number = normalize_phone(sms.origination_number)
        contacts = self._s.contacts.find_by_phone(number)
        text = sms.message_body.strip()
        proof = ConsentProof(message_id=sms.inbound_message_id, consent_text=text[:5000] or None)
        revoked = None
        if keyword in _REVOKING:
            # The opt-out is honoured before anything else is written: if recording the reply
            # or sending the confirmation fails, the retry finds the consent already revoked.
            revoked = self._revoke(number, keyword, contacts, proof)
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
            return self._confirm_opt_out(number, keyword, contacts, *revoked)
        if keyword == InboundKeyword.HELP:
            return self._help(number, contacts)
        if keyword == InboundKeyword.OPT_IN:
            return self._opt_in(number, contacts, proof)
        if keyword == InboundKeyword.CONFIRM:
            return self._confirm(number, keyword, contacts, proof)
        return InboundResult(keyword, _ids(contacts), 0, replied=False)

    def _revoke(
        self, number: str, keyword: InboundKeyword, contacts: list[Contact], proof: ConsentProof
    ) -> tuple[int, bool]:
        """Revoke every SMS consent of the number and suppress it: (entries written, whether
        this text is the one that suppressed the number)."""
        # A free-text "please stop texting me" revokes too: revocation by any reasonable means
        # (R-TCPA-3); the timeline marks it so a person can review the classification.
        changed = sum(
            len(self._s.consent.revoke_all(contact.contact_id, Channel.SMS, Source.KEYWORD, proof))
            for contact in contacts
        )
        # At most one confirmation per opt-out (R-TCPA-5), also when the person sends STOP twice
        # and both texts are handled at once: only the one that suppressed the number replies.
        first = self._s.suppression.add_first(
            Channel.SMS, number, SuppressionReason.OPT_OUT, f"keyword:{keyword.value}"
        )
        return changed, first

    def _confirm_opt_out(
        self,
        number: str,
        keyword: InboundKeyword,
        contacts: list[Contact],
        changed: int,
        first: bool,
    ) -> InboundResult:
        replied = False
        if first:
            locale = _locale(contacts)
            text = texts.sms_opt_out_confirmed(locale=locale, brand=self._settings.brand_name).text
            replied = self._reply(contacts, number, text, Purpose.OPT_OUT_CONFIRMATION)
        return InboundResult(keyword, _ids(contacts), changed, replied)

    def _help(self, number: str, contacts: list[Contact]) -> InboundResult:
        locale = _locale(contacts)
        text = texts.sms_help(
            locale=locale,
            brand=self._settings.brand_name,
            support_url=self._settings.support_url,
            frequency=self._s.sms_frequency(locale),
        ).text
        replied = self._reply(contacts, number, text, Purpose.HELP_REPLY)
        return InboundResult(InboundKeyword.HELP, _ids(contacts), 0, replied)

    def _opt_in(self, number: str, contacts: list[Contact], proof: ConsentProof) -> InboundResult:
        """START/UNSTOP: the number's own new opt-in; re-grants only what existed (R-CTIA-4)."""
        self._lift_opt_out(number)
        changed = self._grant_sms(contacts, number, ConsentStatus.REVOKED, proof)
        replied = changed > 0 and self._opt_in_confirmed(number, contacts)
        return InboundResult(InboundKeyword.OPT_IN, _ids(contacts), changed, replied)

    def _confirm(
        self, number: str, keyword: InboundKeyword, contacts: list[Contact], proof: ConsentProof
    ) -> InboundResult:
        """YES/SIM completes a pending SMS opt-in for this exact number (R-CTIA-3).

        A sign-up that named this number as a new address waits for this very YES: the
        number's owner confirms it, and only then does it become that contact's phone.
        """
        known = {contact.contact_id for contact in contacts}
        signups = [
            signup
            for signup in self._s.contacts.find_by_pending_phone(number)
            if signup.contact_id not in known and self._awaits_yes(signup, number)
        ]
        everyone = [*contacts, *signups]
        changed = self._grant_sms(everyone, number, ConsentStatus.PENDING, proof)
        if changed == 0:
            return InboundResult(keyword, _ids(contacts), 0, replied=False)
        for signup in signups:
            self._s.contacts.confirm_address(signup.contact_id, Channel.SMS, number)
        self._lift_opt_out(number)  # YES to a new offer is a new opt-in by the person (R-CTIA-4)
        for contact in everyone:
            topics = [
                state.topic
                for state in self._s.consent.states(contact.contact_id)
                if state.channel == Channel.SMS and state.status == ConsentStatus.GRANTED
            ]
            subscription_confirmed(self._s, contact.contact_id, Channel.SMS.value, topics)
        return InboundResult(keyword, _ids(everyone), changed, self._opt_in_confirmed(number, everyone))

    def _awaits_yes(self, contact: Contact, number: str) -> bool:
        return any(
            state.channel == Channel.SMS and state.status == ConsentStatus.PENDING and state.address == number
            for state in self._s.consent.states(contact.contact_id)
        )

    def _grant_sms(
        self, contacts: list[Contact], number: str, status: ConsentStatus, proof: ConsentProof
    ) -> int:
        """Grant, on the number's own keyword, every SMS consent in `status` for this exact number."""
        changed = 0
        for contact in contacts:
            for state in self._s.consent.states(contact.contact_id):
                if state.channel == Channel.SMS and state.status == status and state.address == number:
                    self._s.consent.grant(
                        contact.contact_id, Channel.SMS, state.topic, source=Source.KEYWORD, proof=proof
                    )
                    changed += 1
        return changed

    def _lift_opt_out(self, number: str) -> None:
        """Only the number's own opt-out is lifted by its keyword, never a bounce or an erasure."""
        entry = self._s.suppression.check(Channel.SMS, number)
        if entry is not None and entry.reason == SuppressionReason.OPT_OUT:
            self._s.suppression.remove(Channel.SMS, number)

    def _opt_in_confirmed(self, number: str, contacts: list[Contact]) -> bool:
        locale = _locale(contacts)
        text = texts.sms_opt_in_confirmed(
            locale=locale, brand=self._settings.brand_name, frequency=self._s.sms_frequency(locale)
        ).text
        return self._reply(contacts, number, text, Purpose.TRANSACTIONAL)

    def _reply(self, contacts: list[Contact], number: str, text: str, purpose: Purpose) -> bool:
        # One text to the number, recorded on the first contact's timeline (a shared number
        # gets one reply, not one per contact).
        contact_id = contacts[0].contact_id if contacts else None
        result = self._s.dispatcher.send(
            contact_id, OutboundMessage.sms(to=number, purpose=purpose, text=text)
        )
        return result.sent


def _ids(contacts: list[Contact]) -> tuple[str, ...]:
    return tuple(contact.contact_id for contact in contacts)


def _locale(contacts: list[Contact]) -> str | None:
    return next((contact.locale for contact in contacts if contact.locale), None)
