"""The public flows: a form sign-up starts a double opt-in; links confirm, manage and unsubscribe.

Every consent change carries its proof (R-GDPR-2); every message goes through the send gate,
so a suppressed address (after STOP, unsubscribe or erasure) gets no confirmation (the refusal
is on the timeline); and nothing here reveals to an anonymous caller who is subscribed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from http import HTTPStatus

from baton.bootstrap import Services
from baton.consent.models import ConsentProof, ConsentState
from baton.consent.vocabulary import Basis, Channel, ConsentStatus, Source
from baton.contacts.models import Contact, ContactInput
from baton.delivery.message import OutboundMessage, Purpose
from baton.delivery.service import Outcome, SendContext
from baton.ids import new_id
from baton.messages import builtins, texts
from baton.messages.builtins import BuiltIn
from baton.subscriptions.links import Links
from baton.subscriptions.models import Caller, HtmlPage, SubscriptionAccepted, SubscriptionRequest
from baton.suppression.models import SuppressionReason
from baton.tokens import binding
from baton.tokens.claims import Scope, TokenClaims
from baton.tokens.signer import verify
from baton.triggers.announce import subscription_confirmed
from baton.web.forms import ChannelChoices, PreferencesChoice, TopicChoice
from baton.web.pages import Page, mask_address, render_page

# Channels a person manages on the preference page, in display order.
_PAGE_CHANNELS = (Channel.EMAIL, Channel.SMS)
# Outcomes after which the person may have the confirmation request in hand.
_MAY_HAVE_REACHED = frozenset({Outcome.SENT, Outcome.UNKNOWN})


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
        """Record pending consent for every chosen (channel, topic) and ask the person to confirm.

        An anonymous form proves nothing about who owns an address, so it never changes an
        existing contact: an address already on file gets a pending consent on its contact
        (confirmed only by that address's owner); an address Baton does not hold waits as the
        pending address of a new contact made for this sign-up, and joins it only when its own
        owner confirms. The new phone of someone's known email is not attached to them: owning
        the phone proves nothing about owning the email.

        The answer's `contact_id` is always a new id, whether or not an address was known: the
        new contact's when the form brought an address Baton does not hold; otherwise it names
        no contact. Answering with the id on file would tell a stranger that the address is a
        customer's (ids are time-ordered) and hand out the id of someone else's record.
        """
        signup_id = new_id(self._s.clock.now())
        addresses = _Addresses(request.email, request.phone)
        chosen = [Channel(name) for name in request.channels]
        owners = {channel: self._owner_of(channel, addresses.of(channel)) for channel in chosen}
        new = {channel: _address(addresses, channel) for channel in chosen if owners[channel] is None}
        signup = self._s.contacts.create_signup(signup_id, _profile(request), new) if new else None
        topics = request.topics or list(self._settings.default_topics)
        requested: set[str] = set()
        for channel in chosen:
            contact = owners[channel] or signup
            assert contact is not None  # an address without an owner has the sign-up contact
            if contact.contact_id not in requested:
                requested.add(contact.contact_id)
                self._s.timeline.record(
                    contact.contact_id,
                    "subscription.requested",
                    {"channels": list(request.channels), "topics": list(topics), "form_id": request.form_id},
                )
            proof = ConsentProof(
                consent_text=request.consent_text,
                language=request.locale or contact.locale or "en",
                form_id=request.form_id,
                page_url=request.page_url,
                ip=caller.ip,
                user_agent=caller.user_agent,
            )
            self._request_and_ask(contact, channel, _address(addresses, channel), topics, Source.FORM, proof)
        return SubscriptionAccepted(contact_id=signup_id)

    def _owner_of(self, channel: Channel, address: str | None) -> Contact | None:
        """The contact that already holds this address in its profile, if any."""
        if address is None:
            return None
        if channel == Channel.EMAIL:
            return self._s.contacts.find_by_email(address)
        return next(iter(self._s.contacts.find_by_phone(address)), None)

    def _request_and_ask(
        self,
        contact: Contact,
        channel: Channel,
        address: str,
        topics: list[str],
        source: Source,
        proof: ConsentProof,
    ) -> None:
        """Record pending consent per topic under one new request id, and ask the address to confirm.

        The request id is random and stored with the pending consent: the confirmation link
        names it instead of the address, and a newer request for the same consent replaces it.
        """
        request_id = secrets.token_urlsafe(16)
        pending = [
            topic
            for topic in topics
            if self._s.consent.request(
                contact.contact_id, channel, topic, address, source=source, proof=proof, request_id=request_id
            ).state.status
            == ConsentStatus.PENDING
        ]
        if pending:
            self._ask_to_confirm(contact, channel, address, pending, request_id)

    def _links(self) -> Links:
        return Links(
            self._settings,
            self._s.signing_key(),
            self._s.clock.now(),
            self._s.contacts.generation,
            address_key=self._s.link_address_key(),
        )

    def _ask_to_confirm(
        self, contact: Contact, channel: Channel, address: str, topics: list[str], request_id: str
    ) -> None:
        links = self._links()
        brand = self._settings.brand_name
        if channel == Channel.EMAIL:
            content = texts.confirmation_email(
                locale=contact.locale,
                brand=brand,
                confirm_url=links.confirm(contact.contact_id, channel, request_id),
                postal_address=self._settings.postal_address,
                valid_days=self._settings.confirm_ttl_days,
                # A name only for the contact's own address: a sign-up's name is the form's
                # free text, and its address is not confirmed yet, so greeting with it would let
                # anyone make the brand write their words to any address.
                first_name=contact.first_name if contact.email == address else None,
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
                tags=builtins.tags(BuiltIn.DOUBLE_OPT_IN_EMAIL),
            )
            builtin = BuiltIn.DOUBLE_OPT_IN_EMAIL
        else:
            sms = texts.sms_confirmation_request(
                locale=contact.locale, brand=brand, frequency=self._s.sms_frequency(contact.locale)
            )
            message = OutboundMessage.sms(
                to=address, purpose=Purpose.CONFIRMATION, text=sms.text, topic=topics[0]
            )
            builtin = BuiltIn.SMS_CONFIRMATION_REQUEST
        result = self._s.dispatcher.send(
            contact.contact_id, message, SendContext(labels=builtins.labels(builtin))
        )
        if channel == Channel.SMS and result.outcome in _MAY_HAVE_REACHED:
            # Only a question the number was asked can be answered by its YES (R-CTIA-3): a
            # request the gate refused (an opted-out number, R-CTIA-4) stays unanswerable.
            self._s.consent.mark_asked(contact.contact_id, channel, topics, request_id)

    # Double opt-in by link ----------------------------------------------------------------

    def confirm_page(self, token: str) -> HtmlPage:
        """What the confirmation link opens (R-MBX-5): one button that confirms, nothing more.

        Mail scanners and link previews fetch every link in a message, so the GET itself grants
        nothing; the person's press of the button (a POST to the same link) does. A link that
        has nothing left to confirm says so instead of offering a button.
        """
        claims = self._verify(token, Scope.CONFIRM)
        contact = self._holder(claims)
        if contact is None or claims.channel is None or claims.request is None:
            return self._page(
                HTTPStatus.OK, Page.CONFIRM_EXPIRED, None, support_url=self._settings.support_url
            )
        if not self._pending(contact, claims.channel, claims.request):
            return self._page(
                HTTPStatus.OK, Page.CONFIRM_EXPIRED, contact.locale, support_url=self._settings.support_url
            )
        return self._page(
            HTTPStatus.OK, Page.CONFIRM, contact.locale, action_url=self._link_url("confirm", token)
        )

    def _pending(self, contact: Contact, channel: Channel, request_id: str) -> list[ConsentState]:
        return [
            state
            for state in self._s.consent.states(contact.contact_id)
            if state.channel == channel
            and state.status == ConsentStatus.PENDING
            and state.request_id == request_id
        ]

    def confirm(self, token: str, caller: Caller) -> HtmlPage:
        """Grant the pending consents a confirmation link names (R-MBX-5, R-GDPR-1).

        The link names the pending request by its id; the address it covers is read from the
        stored request. A pending address of the contact becomes its own address now: the
        link reached that address, so its owner confirmed it.
        """
        claims = self._verify(token, Scope.CONFIRM)
        contact = self._holder(claims)
        if contact is None or claims.channel is None or claims.request is None:
            return self._page(
                HTTPStatus.OK, Page.CONFIRM_EXPIRED, None, support_url=self._settings.support_url
            )
        channel = claims.channel
        requested = self._pending(contact, channel, claims.request)
        if not requested:
            return self._page(
                HTTPStatus.OK, Page.CONFIRM_EXPIRED, contact.locale, support_url=self._settings.support_url
            )
        proof = ConsentProof(ip=caller.ip, user_agent=caller.user_agent, note="confirmation link followed")
        for state in requested:
            self._s.consent.grant(contact.contact_id, channel, state.topic, source=Source.LINK, proof=proof)
        confirmed = [
            address
            for address in sorted({state.address for state in requested if state.address})
            if self._s.contacts.confirm_address(contact.contact_id, channel, address)
        ]
        subscription_confirmed(
            self._s, contact.contact_id, channel.value, sorted(state.topic for state in requested)
        )
        # The page was reached through the link sent to this address, now the contact's own.
        reached = confirmed[0] if confirmed else None
        return self._page(
            HTTPStatus.OK,
            Page.CONFIRMED,
            contact.locale,
            preferences_url=self._links().preferences(contact.contact_id, channel, reached),
        )

    # Preference page ----------------------------------------------------------------------

    def preferences(self, token: str) -> HtmlPage:
        """Show what the contact receives, per channel and topic (R-CANSPAM-2: no login)."""
        contact = self._holder(self._verify(token, Scope.PREFERENCES))
        if contact is None:
            return self._page(HTTPStatus.NOT_FOUND, Page.ERROR, None, support_url=self._settings.support_url)
        return self._preferences_page(contact, token)

    def save_preferences(self, token: str, choice: PreferencesChoice, caller: Caller) -> HtmlPage:
        """Apply the person's choices: revoke what was unticked; for what was ticked, grant on the
        address the link was sent to, ask every other address for its own confirmation.

        Whoever holds a link proves only that they read the message it came in (a shared or
        recycled number, a forwarded email): so only that address's consent is theirs to give.
        A link not bound to an address the contact still has (sent before links were bound,
        or to an address since replaced) may only revoke.
        """
        claims = self._verify(token, Scope.PREFERENCES)
        contact = self._holder(claims)
        if contact is None:
            return self._page(HTTPStatus.NOT_FOUND, Page.ERROR, None, support_url=self._settings.support_url)
        proof = ConsentProof(ip=caller.ip, user_agent=caller.user_agent, note="preference page")
        addresses = _Addresses(contact.email, contact.phone)
        states = {(s.channel, s.topic): s for s in self._s.consent.states(contact.contact_id)}
        if choice.unsubscribe_all:
            for channel in {channel for channel, _ in states}:
                self._unsubscribe_channel(contact, channel, proof, Source.PREFERENCE_PAGE)
        else:
            for channel, topic in sorted(choice.revoked):
                self._s.consent.revoke(
                    contact.contact_id, channel, topic, source=Source.PREFERENCE_PAGE, proof=proof
                )
            reached = self._reached(claims, addresses)
            to_confirm: dict[Channel, list[str]] = {}
            offered = set(self._settings.topics) | {topic for _, topic in states}
            for channel, topic in sorted(choice.granted):
                if topic not in offered or reached is None:
                    continue  # the form is the person's input, not a source of topics
                state = states.get((channel, topic))
                address = addresses.of(channel)
                if address is None or (state is not None and state.is_granted and state.address == address):
                    continue
                if channel == Channel.EMAIL and reached == channel:
                    # The page was reached through a signed link sent to this very address:
                    # the person's own act, so it grants (and lifts their own earlier opt-out).
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
                    # Another address confirms by its own double opt-in (the email's link); SMS
                    # consent always needs the number's own YES (R-CTIA-3).
                    to_confirm.setdefault(channel, []).append(topic)
            for channel, topics in to_confirm.items():
                self._request_and_ask(
                    contact, channel, _address(addresses, channel), topics, Source.PREFERENCE_PAGE, proof
                )
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

    def unsubscribe_page(self, token: str) -> HtmlPage:
        """What the body's unsubscribe link opens (R-CANSPAM-1, R-GDPR-3): one button, no login.

        The button posts `List-Unsubscribe=One-Click` to the same link, the RFC 8058 endpoint
        the `List-Unsubscribe` header names, so both ways out are one mechanism. A GET changes
        nothing (a scanner's prefetch must not unsubscribe anyone).
        """
        claims = self._verify(token, Scope.UNSUBSCRIBE)
        contact = self._holder(claims)
        if contact is None:
            # Erased: nothing is held and every address is suppressed already (R-GDPR-5).
            return self._page(HTTPStatus.OK, Page.UNSUBSCRIBED, None)
        channel = claims.channel or Channel.EMAIL
        return self._page(
            HTTPStatus.OK,
            Page.UNSUBSCRIBE,
            contact.locale,
            action_url=self._link_url("unsubscribe", token),
            channel=channel.value,
        )

    def unsubscribe(self, token: str, caller: Caller) -> HtmlPage:
        """RFC 8058 one-click (R-MBX-2): revoke every topic on the link's channel at once (R-TCPA-6).

        After erasure the link finds no contact and changes nothing: erasure already suppressed
        the contact's addresses (R-GDPR-5), so the person is shown they are unsubscribed.
        """
        claims = self._verify(token, Scope.UNSUBSCRIBE)
        contact = self._holder(claims)
        if contact is not None:
            proof = ConsentProof(ip=caller.ip, user_agent=caller.user_agent, note="one-click unsubscribe")
            self._unsubscribe_channel(
                contact, claims.channel or Channel.EMAIL, proof, Source.LINK, by_link=True
            )
        return self._page(HTTPStatus.OK, Page.UNSUBSCRIBED, contact.locale if contact else None)

    def _unsubscribe_channel(
        self,
        contact: Contact,
        channel: Channel,
        proof: ConsentProof,
        source: Source,
        *,
        by_link: bool = False,
    ) -> None:
        """Revoke the channel, withdraw its pending requests, and suppress the addresses of it
        that are the contact's own (`confirmed_addresses`).

        A pending address (named by a form, never confirmed by its owner) is dropped, not
        suppressed: whoever holds this contact's link may not opt a stranger out of the brand.
        One exception: the one-click link itself (`by_link`) went to the channel's address, a
        pending one included (the confirmation email carries it), so its owner is the one who
        clicked, and that address is suppressed too.
        """
        self._s.consent.revoke_all(contact.contact_id, channel, source, proof)
        owned = {
            address
            for ch, address in self._s.contacts.confirmed_addresses(contact.contact_id)
            if ch == channel
        }
        dropped = self._s.contacts.drop_pending(contact.contact_id, channel)
        if by_link and dropped and _Addresses(contact.email, contact.phone).of(channel) is None:
            owned.add(dropped)
        for address in sorted(owned):
            # Suppressed until the person opts in again themselves (R-MBX-3: at once).
            self._s.suppression.add(channel, address, SuppressionReason.OPT_OUT, source.value)

    def _lift_own_opt_out(self, channel: Channel, address: str) -> None:
        entry = self._s.suppression.check(channel, address)
        if entry is not None and entry.reason == SuppressionReason.OPT_OUT:
            self._s.suppression.remove(channel, address)

    # Helpers ------------------------------------------------------------------------------

    def _reached(self, claims: TokenClaims, addresses: _Addresses) -> Channel | None:
        """The channel whose current address the link was sent to; None when it names none."""
        channel = claims.channel
        if channel is None or not binding.reached(
            claims, self._s.link_address_key(), channel, addresses.of(channel)
        ):
            return None
        return channel

    def _verify(self, token: str, scope: Scope) -> TokenClaims:
        return verify(token, scope, self._s.signing_key(), self._s.clock.now())

    def _holder(self, claims: TokenClaims) -> Contact | None:
        """The contact the link was made for; None once erased (even if the id is in use again)."""
        return self._s.contacts.link_holder(claims.contact_id, claims.generation)

    def _action_url(self, token: str) -> str:
        return self._link_url("preferences", token)

    def _link_url(self, route: str, token: str) -> str:
        return f"{self._settings.public_base_url.rstrip('/')}/v1/{route}/{token}"

    def _page(self, status: int, page: Page, locale: str | None, **values: str | None) -> HtmlPage:
        return HtmlPage(status, render_page(page, locale, brand=self._settings.brand_name, **values))


def _address(addresses: _Addresses, channel: Channel) -> str:
    address = addresses.of(channel)
    assert address is not None  # checked by the route (missing_address)
    return address


def _profile(request: SubscriptionRequest) -> ContactInput:
    """What a sign-up may say about a new contact: never an address (those wait to be confirmed)."""
    offered = {
        "first_name": request.first_name,
        "locale": request.locale,
        "timezone": request.timezone,
        "country": request.country,
    }
    return ContactInput.model_validate({name: value for name, value in offered.items() if value is not None})


def _on(state: ConsentState | None) -> bool:
    return state is not None and state.status == ConsentStatus.GRANTED
