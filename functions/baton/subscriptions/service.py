"""The public flows: a form sign-up starts a double opt-in; links confirm, manage and unsubscribe.

Every consent change carries its proof (R-GDPR-2); every message goes through the send gate,
so a suppressed address (after STOP, unsubscribe or erasure) gets no confirmation (the refusal
is on the timeline); and nothing here reveals to an anonymous caller who is subscribed.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from baton.bootstrap import Services
from baton.consent.models import ConsentProof, ConsentState
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.contacts.exceptions import ContactNotFound
from baton.contacts.models import Contact, ContactInput
from baton.delivery.message import OutboundMessage, Purpose
from baton.messages import texts
from baton.subscriptions.links import Links
from baton.subscriptions.models import Caller, HtmlPage, SubscriptionAccepted, SubscriptionRequest
from baton.suppression.models import SuppressionReason
from baton.tokens.claims import Scope, TokenClaims
from baton.tokens.signer import verify
from baton.triggers.announce import subscription_confirmed
from baton.web.forms import ChannelChoices, PreferencesChoice, TopicChoice
from baton.web.pages import Page, mask_address, render_page

# Channels a person manages on the preference page, in display order.
_PAGE_CHANNELS = (Channel.EMAIL, Channel.SMS)
_UNSUBSCRIBE_SOURCE = "one_click_unsubscribe"


@dataclass(frozen=True)
class _Addresses:
    email: str | None
    phone: str | None

    def of(self, channel: Channel) -> str | None:
        return self.email if channel == Channel.EMAIL else self.phone


class SubscriptionService:
    def __init__(self, services: Services) -> None:
        self._s = services
        self._settings = services.settings

    # Sign-up ------------------------------------------------------------------------------

    def subscribe(self, request: SubscriptionRequest, caller: Caller) -> SubscriptionAccepted:
        """Record pending consent for every chosen (channel, topic) and ask the person to confirm."""
        contact = self._contact_for(request)
        topics = request.topics or list(self._settings.default_topics)
        proof = ConsentProof(
            consent_text=request.consent_text,
            language=request.locale or contact.locale or "en",
            form_id=request.form_id,
            page_url=request.page_url,
            ip=caller.ip,
            user_agent=caller.user_agent,
        )
        addresses = _Addresses(request.email, request.phone)
        self._s.timeline.record(
            contact.contact_id,
            "subscription.requested",
            {"channels": list(request.channels), "topics": list(topics), "form_id": request.form_id},
        )
        for channel in (Channel(name) for name in request.channels):
            address = addresses.of(channel)
            assert address is not None  # checked by the route (missing_address)
            pending = [
                topic
                for topic in topics
                if self._s.consent.request(
                    contact.contact_id, channel, topic, address, proof=proof
                ).state.status
                == ConsentStatus.PENDING
            ]
            if pending:
                self._ask_to_confirm(contact, channel, address, pending)
        return SubscriptionAccepted(contact_id=contact.contact_id)

    def _contact_for(self, request: SubscriptionRequest) -> Contact:
        """The contact this form is about: found by email, then phone, else a new one.

        An anonymous form only fills fields that are empty: it must not overwrite a profile.
        """
        existing = None
        if request.email:
            existing = self._s.contacts.find_by_email(request.email)
        if existing is None and request.phone:
            existing = next(iter(self._s.contacts.find_by_phone(request.phone)), None)
        offered = {
            "email": request.email,
            "phone": request.phone,
            "first_name": request.first_name,
            "locale": request.locale,
            "timezone": request.timezone,
            "country": request.country,
        }
        current = existing.model_dump() if existing else {}
        missing = {
            name: value for name, value in offered.items() if value is not None and not current.get(name)
        }
        if existing is not None and not missing:
            return existing
        contact_id = existing.contact_id if existing else None
        return self._s.contacts.upsert(contact_id, ContactInput.model_validate(missing)).contact

    def _links(self) -> Links:
        return Links(self._settings, self._s.signing_key(), self._s.clock.now())

    def _ask_to_confirm(self, contact: Contact, channel: Channel, address: str, topics: list[str]) -> None:
        links = self._links()
        brand = self._settings.brand_name
        if channel == Channel.EMAIL:
            content = texts.confirmation_email(
                locale=contact.locale,
                brand=brand,
                confirm_url=links.confirm(contact.contact_id, channel, address, topics),
                postal_address=self._settings.postal_address,
                valid_days=self._settings.confirm_ttl_days,
                first_name=contact.first_name,
                support_url=self._settings.support_url,
            )
            message = OutboundMessage.email(
                to=address,
                purpose=Purpose.CONFIRMATION,
                subject=content.subject,
                text=content.text,
                html=content.html,
                topic=topics[0],
                # A way out in every message, the confirmation included (R-MBX-1, R-EPR-1).
                unsubscribe_url=links.unsubscribe(contact.contact_id, channel, address),
            )
        else:
            sms = texts.sms_confirmation_request(
                locale=contact.locale, brand=brand, frequency=self._settings.sms_frequency
            )
            message = OutboundMessage.sms(
                to=address, purpose=Purpose.CONFIRMATION, text=sms.text, topic=topics[0]
            )
        self._s.dispatcher.send(contact.contact_id, message)

    # Double opt-in by link ----------------------------------------------------------------

    def confirm(self, token: str, caller: Caller) -> HtmlPage:
        """Grant the pending consents a confirmation link names (R-MBX-5, R-GDPR-1)."""
        claims = self._verify(token, Scope.CONFIRM)
        contact = self._contact_or_none(claims.contact_id)
        if contact is None or claims.channel is None:
            return self._page(
                HTTPStatus.OK, Page.CONFIRM_EXPIRED, None, support_url=self._settings.support_url
            )
        proof = ConsentProof(ip=caller.ip, user_agent=caller.user_agent, note="confirmation link followed")
        confirmed: list[str] = []
        for topic in claims.topics:
            state = self._s.consent.state(contact.contact_id, claims.channel, topic)
            if (
                state is not None
                and state.status == ConsentStatus.PENDING
                and state.address == claims.address
            ):
                self._s.consent.grant(
                    contact.contact_id, claims.channel, topic, source=Source.LINK, proof=proof
                )
                confirmed.append(topic)
        if not confirmed:
            return self._page(
                HTTPStatus.OK, Page.CONFIRM_EXPIRED, contact.locale, support_url=self._settings.support_url
            )
        subscription_confirmed(self._s, contact.contact_id, claims.channel.value, confirmed)
        return self._page(
            HTTPStatus.OK,
            Page.CONFIRMED,
            contact.locale,
            preferences_url=self._links().preferences(contact.contact_id),
        )

    # Preference page ----------------------------------------------------------------------

    def preferences(self, token: str) -> HtmlPage:
        """Show what the contact receives, per channel and topic (R-CANSPAM-2: no login)."""
        claims = self._verify(token, Scope.PREFERENCES)
        contact = self._contact_or_none(claims.contact_id)
        if contact is None:
            return self._page(HTTPStatus.NOT_FOUND, Page.ERROR, None, support_url=self._settings.support_url)
        return self._preferences_page(contact, token)

    def save_preferences(self, token: str, choice: PreferencesChoice, caller: Caller) -> HtmlPage:
        """Apply the person's choices: revoke what was unticked, grant or re-request what was ticked."""
        claims = self._verify(token, Scope.PREFERENCES)
        contact = self._contact_or_none(claims.contact_id)
        if contact is None:
            return self._page(HTTPStatus.NOT_FOUND, Page.ERROR, None, support_url=self._settings.support_url)
        proof = ConsentProof(ip=caller.ip, user_agent=caller.user_agent, note="preference page")
        addresses = _Addresses(contact.email, contact.phone)
        states = {(s.channel, s.topic): s for s in self._s.consent.states(contact.contact_id)}
        if choice.unsubscribe_all:
            for channel in {channel for channel, _ in states}:
                self._unsubscribe_channel(
                    contact.contact_id, channel, addresses.of(channel), proof, Source.PREFERENCE_PAGE
                )
        else:
            for channel, topic in sorted(choice.revoked):
                self._s.consent.revoke(
                    contact.contact_id, channel, topic, source=Source.PREFERENCE_PAGE, proof=proof
                )
            requested_sms: list[str] = []
            offered = set(self._settings.topics) | {topic for _, topic in states}
            for channel, topic in sorted(choice.granted):
                if topic not in offered:
                    continue  # the form is the person's input, not a source of topics
                state = states.get((channel, topic))
                address = addresses.of(channel)
                if address is None or (state is not None and state.is_granted and state.address == address):
                    continue
                if channel == Channel.EMAIL:
                    # The page was reached through a signed link sent to this address: the
                    # person's own act, so it grants (and lifts their own earlier opt-out).
                    self._s.consent.grant(
                        contact.contact_id,
                        channel,
                        topic,
                        source=Source.PREFERENCE_PAGE,
                        basis=Basis.EXPRESS,
                        address=address,
                        proof=proof,
                    )
                    self._lift_own_opt_out(channel, address)
                else:
                    # SMS consent needs the number's own YES (R-CTIA-3): ask for it.
                    self._s.consent.request(
                        contact.contact_id,
                        channel,
                        topic,
                        address,
                        source=Source.PREFERENCE_PAGE,
                        proof=proof,
                    )
                    requested_sms.append(topic)
            if requested_sms and contact.phone:
                self._ask_to_confirm(contact, Channel.SMS, contact.phone, requested_sms)
        return self._page(
            HTTPStatus.OK, Page.PREFERENCES_SAVED, contact.locale, preferences_url=self._action_url(token)
        )

    def _preferences_page(self, contact: Contact, token: str) -> HtmlPage:
        states = {(s.channel, s.topic): s for s in self._s.consent.states(contact.contact_id)}
        addresses = _Addresses(contact.email, contact.phone)
        groups = []
        for channel in _PAGE_CHANNELS:
            address = addresses.of(channel)
            if address is None:
                continue
            topics = sorted({topic for ch, topic in states if ch == channel} | set(self._settings.topics))
            groups.append(
                ChannelChoices(
                    channel=channel,
                    topics=tuple(
                        TopicChoice(
                            channel,
                            topic,
                            topic.replace("-", " ").capitalize(),
                            _on(states.get((channel, topic))),
                        )
                        for topic in topics
                    ),
                    address_hint=mask_address(channel, address),
                )
            )
        html = render_page(
            Page.PREFERENCES,
            contact.locale,
            brand=self._settings.brand_name,
            action_url=self._action_url(token),
            channels=groups,
        )
        return HtmlPage(HTTPStatus.OK, html)

    # One-click unsubscribe ----------------------------------------------------------------

    def unsubscribe(self, token: str, caller: Caller) -> HtmlPage:
        """RFC 8058 one-click (R-MBX-2): revoke every topic on the link's channel at once (R-TCPA-6).

        Works after erasure too: the token names the address, which stays suppressed.
        """
        claims = self._verify(token, Scope.UNSUBSCRIBE)
        channel = claims.channel or Channel.EMAIL
        proof = ConsentProof(ip=caller.ip, user_agent=caller.user_agent, note="one-click unsubscribe")
        contact = self._contact_or_none(claims.contact_id)
        if contact is not None:
            self._unsubscribe_channel(contact.contact_id, channel, claims.address, proof, Source.LINK)
        elif claims.address:
            self._s.suppression.add(channel, claims.address, SuppressionReason.OPT_OUT, _UNSUBSCRIBE_SOURCE)
        return self._page(HTTPStatus.OK, Page.UNSUBSCRIBED, contact.locale if contact else None)

    def _unsubscribe_channel(
        self, contact_id: str, channel: Channel, address: str | None, proof: ConsentProof, source: Source
    ) -> None:
        self._s.consent.revoke_all(contact_id, channel, source, proof)
        if address:
            # Suppressed until the person opts in again themselves (R-MBX-3: at once).
            self._s.suppression.add(channel, address, SuppressionReason.OPT_OUT, source.value)

    def _lift_own_opt_out(self, channel: Channel, address: str) -> None:
        entry = self._s.suppression.check(channel, address)
        if entry is not None and entry.reason == SuppressionReason.OPT_OUT:
            self._s.suppression.remove(channel, address)

    # Helpers ------------------------------------------------------------------------------

    def _verify(self, token: str, scope: Scope) -> TokenClaims:
        return verify(token, scope, self._s.signing_key(), self._s.clock.now())

    def _contact_or_none(self, contact_id: str) -> Contact | None:
        try:
            return self._s.contacts.get(contact_id)
        except ContactNotFound:
            return None

    def _action_url(self, token: str) -> str:
        return f"{self._settings.public_base_url.rstrip('/')}/v1/preferences/{token}"

    def _page(self, status: int, page: Page, locale: str | None, **values: str | None) -> HtmlPage:
        return HtmlPage(status, render_page(page, locale, brand=self._settings.brand_name, **values))


def _on(state: ConsentState | None) -> bool:
    return state is not None and state.status == ConsentStatus.GRANTED
