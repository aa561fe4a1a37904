"""The sample scenario of `make demo`, driven through the local stack's HTTP API only.

A person signs up by web form for email and SMS, confirms both (link and YES), changes a
preference, unsubscribes in one click, texts STOP, asks for an export and is erased. Every step
prints what the API answered; the contact's timeline is printed before the erasure. Then the
journeys, the relay and the figures of each journey it ran; it ends with the inventory: what is
due for review, a text message traced to its owner, a template edited without re-approval
refused, and a marketing journey overdue for review that stops admitting new contacts.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from textwrap import indent
from typing import Any, Final

from infra import cli, figures, inventory, trace
from infra.http_client import HttpResponse, LocalClient


class DemoFailed(RuntimeError):
    """The local stack did not answer as the contract says."""


EMAIL = "Ana.Souza@Example.com"
PHONE = "(11) 91234-5678"  # a Brazilian mobile in local form; stored as E.164
PHONE_E164 = "+5511912345678"
CARLA_PHONE = "+5511987654321"  # the journey demo's subscriber in Sao Paulo
_LINK = re.compile(r"https?://[^\s\"'<>]+")


def _links(text: str, marker: str) -> list[str]:
    return [unescape(url) for url in _LINK.findall(text) if marker in url]


class Demo:
    def __init__(self, client: LocalClient, out: Callable[[str], None] = print) -> None:
        self.client = client
        self.out = out
        self.step_no = 0

    def step(self, title: str) -> None:
        self.step_no += 1
        self.out(f"\n== {self.step_no}. {title}")

    def expect(self, resp: HttpResponse, status: int, what: str) -> HttpResponse:
        if resp.status != status:
            raise DemoFailed(f"{what}: expected HTTP {status}, got {resp.status}: {resp.text[:500]}")
        self.out(f"   {what}: HTTP {resp.status}")
        return resp

    def outbox(self, to: str) -> list[dict[str, Any]]:
        resp = self.client.get("/_local/outbox")
        if resp.status != 200:
            raise DemoFailed(f"outbox: HTTP {resp.status}")
        messages: list[dict[str, Any]] = resp.json()
        return [m for m in messages if m.get("to") == to]

    def consents(self, contact_id: str) -> list[dict[str, Any]]:
        export = self.client.get(f"/v1/contacts/{contact_id}/export").json()
        states: list[dict[str, Any]] = export.get("consent", {}).get("states", [])
        return states

    def show_consents(self, contact_id: str) -> None:
        for state in sorted(self.consents(contact_id), key=lambda s: (s["channel"], s["topic"])):
            self.out(f"   consent {state['channel']}/{state['topic']}: {state['status']}")

    def run(self) -> None:
        c = self.client
        self.step("A web form signs Ana up for news by email and SMS")
        resp = self.expect(
            c.post(
                "/v1/subscriptions",
                auth=False,
                json_body={
                    "email": EMAIL,
                    "phone": PHONE,
                    "first_name": "Ana",
                    "locale": "pt-BR",
                    "timezone": "America/Sao_Paulo",
                    "country": "BR",
                    "topics": ["news"],
                    "channels": ["email", "sms"],
                    "consent_text": "Quero receber novidades por e-mail e SMS. Posso cancelar quando quiser.",
                    "form_id": "newsletter-footer-v3",
                    "page_url": "https://www.example.com/pt-br/",
                },
                headers={"User-Agent": "Mozilla/5.0 (demo browser)"},
            ),
            202,
            "POST /v1/subscriptions",
        )
        contact_id = resp.json()["contact_id"]
        self.out(f"   contact {contact_id}: {resp.json()['status']}")
        self.show_consents(contact_id)

        self.step("Ana follows the link in the confirmation email (double opt-in)")
        email = self.outbox(EMAIL.lower())[-1]
        self.out(f"   email: {email['subject']!r}")
        confirm_url = _links(email["body"], "/v1/confirm/")[0]
        self.expect(c.get(confirm_url, auth=False), 200, "GET /v1/confirm/{token}")  # the page
        self.out("   the link opens a page with one button; a GET alone confirms nothing (R-MBX-5)")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        page = self.expect(
            c.post(confirm_url, auth=False, data="", headers=form),
            200,
            "POST /v1/confirm/{token}: the button",
        )
        self.show_consents(contact_id)

        self.step("Ana answers the confirmation text with SIM (YES)")
        sms = self.outbox(PHONE_E164)[-1]
        self.out(f"   sms: {sms['body']!r}")
        self.expect(
            c.post("/_local/sms-inbound", json_body={"from": PHONE_E164, "body": "SIM"}), 202, "inbound SMS"
        )
        self.out(f"   reply: {self.outbox(PHONE_E164)[-1]['body']!r}")
        self.show_consents(contact_id)

        self.step("Ana opens her preference page and adds the 'offers' topic by email")
        preferences_url = _links(page.text, "/v1/preferences/")[0]
        prefs = self.expect(c.get(preferences_url, auth=False), 200, "GET /v1/preferences/{token}")
        offered = sorted(set(re.findall(r'name="choice" value="([^"]+)"', prefs.text)))
        self.out(f"   the page offers: {', '.join(offered)}")
        self.expect(
            c.post(
                preferences_url,
                auth=False,
                data="shown=email:news&shown=email:offers&shown=sms:news"
                "&choice=email:news&choice=email:offers&choice=sms:news&action=save",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            200,
            "POST /v1/preferences/{token}",
        )
        self.show_consents(contact_id)

        self.step("Ana unsubscribes from email in one click (RFC 8058, as a mailbox provider does)")
        # The List-Unsubscribe header of Ana's email, as a mailbox provider reads it (R-MBX-1).
        unsubscribe_url = email["headers"]["List-Unsubscribe"].strip("<>")
        self.expect(
            c.post(
                unsubscribe_url,
                auth=False,
                data="List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            200,
            "POST /v1/unsubscribe/{token}",
        )
        self.show_consents(contact_id)

        self.step("Ana texts STOP")
        self.expect(
            c.post("/_local/sms-inbound", json_body={"from": PHONE_E164, "body": "STOP"}), 202, "inbound SMS"
        )
        self.out(f"   reply (the only one, R-TCPA-5): {self.outbox(PHONE_E164)[-1]['body']!r}")
        self.show_consents(contact_id)

        self.step("The form is submitted again: both confirmations are refused")
        sent_before = len(self.outbox(EMAIL.lower())) + len(self.outbox(PHONE_E164))
        self.expect(
            c.post(
                "/v1/subscriptions",
                auth=False,
                json_body={
                    "email": EMAIL,
                    "phone": PHONE_E164,
                    "topics": ["news"],
                    "channels": ["email", "sms"],
                },
            ),
            202,
            "POST /v1/subscriptions",
        )
        sent_after = len(self.outbox(EMAIL.lower())) + len(self.outbox(PHONE_E164))
        self.out(f"   messages sent to Ana by this sign-up: {sent_after - sent_before}")

        self.step("The back office exports everything held on Ana (R-GDPR-5)")
        export = self.expect(
            c.get(f"/v1/contacts/{contact_id}/export"), 200, "GET /v1/contacts/{id}/export"
        ).json()
        entries, events = len(export["consent"]["entries"]), len(export["timeline"])
        self.out(
            f"   format {export['format']}: profile, {entries} consent entries, {events} timeline events"
        )

        self.step("Ana's timeline, newest first")
        timeline = self.expect(
            c.get(f"/v1/contacts/{contact_id}/timeline?limit=100"), 200, "GET timeline"
        ).json()
        for event in reversed(timeline["items"]):
            self.out(f"   {event['at']}  {event['kind']:<22} {_summary(event['detail'])}")

        self.step("The back office erases Ana (R-GDPR-5)")
        self.expect(c.delete(f"/v1/contacts/{contact_id}"), 202, "DELETE /v1/contacts/{id}")
        self.expect(c.get(f"/v1/contacts/{contact_id}"), 404, "GET /v1/contacts/{id}")
        self.expect(
            c.put(f"/v1/contacts/{contact_id}", json_body={"email": EMAIL}), 201, "CRM upsert of the address"
        )
        export = c.get(f"/v1/contacts/{contact_id}/export").json()
        held = ", ".join(f"{e['channel']} ({e['reason']})" for e in export["suppression"]) or "nothing"
        self.out(f"   consents after the upsert: {len(export['consent']['states'])}; suppressed: {held}")
        self.out("\nDemo finished.")


class JourneyDemo(Demo):
    """The journeys on a virtual clock: failover, a quiet-hours hold, a sales hold, a duplicate
    event, a transactional message, and a wait of three days in a second."""

    def clock(self, **move: str) -> str:
        resp = self.client.post("/_local/clock", json_body=move)
        if resp.status != 200:
            raise DemoFailed(f"POST /_local/clock {move}: HTTP {resp.status}: {resp.text[:300]}")
        now: str = resp.json()["now"]
        self.out(f"   clock -> {now}")
        return now

    def contact(self, contact_id: str, body: dict[str, Any]) -> None:
        resp = self.client.put(f"/v1/contacts/{contact_id}", json_body=body)
        if resp.status not in (200, 201):
            raise DemoFailed(f"PUT /v1/contacts/{contact_id}: HTTP {resp.status}: {resp.text[:300]}")

    def grant(self, contact_id: str, channel: str, topic: str) -> None:
        proof = {
            "note": "opted in at the shop's checkout",
            "actor": "crm-sync",
            "text_version": "checkout-v2",
            # When the person agreed: the checkout, which is now on the local stack's clock.
            "obtained_at": self.client.get("/_local/clock").json()["now"],
        }
        body = {"channel": channel, "topic": topic, "status": "granted", "basis": "express", "proof": proof}
        self.expect(
            self.client.post(f"/v1/contacts/{contact_id}/consents", json_body=body),
            201,
            f"agent records {channel}/{topic} consent",
        )

    def event(self, contact_id: str, event_type: str, key: str, **data: Any) -> list[str]:
        body = {"contact_id": contact_id, "type": event_type, "data": data, "idempotency_key": key}
        resp = self.expect(
            self.client.post("/v1/events", json_body=body), 202, f"POST /v1/events {event_type}"
        )
        started: list[str] = resp.json()["journeys_started"]
        self.out(f"   journeys started: {started or 'none'}")
        return started

    def sent_to(self, address: str) -> None:
        for message in self.outbox(address):
            what = message.get("subject") or message.get("body", "")[:70]
            self.out(f"   {message['sent_at']}  {message['channel']:<5} {what}")

    def timeline(self, contact_id: str, label: str) -> None:
        items = self.client.get(f"/v1/contacts/{contact_id}/timeline?limit=100").json()["items"]
        self.out(f"   timeline of {label}:")
        for event in reversed(items):
            self.out(f"     {event['at']}  {event['kind']:<20} {_summary(event['detail'])}")

    def run(self) -> None:
        self.step("Journeys: the clock is set to 22:00 in Sao Paulo (01:00 UTC)")
        now = self.client.get("/_local/clock").json()["now"]
        self.clock(to=f"{_next_day(now)}T01:00:00Z")

        self.step("Bruno (New York) gets the welcome journey; SMS has no consent, so email takes over")
        self.contact(
            "bruno",
            {
                "email": "bruno@example.com",
                "phone": "+12125550123",
                "locale": "en",
                "timezone": "America/New_York",
                "country": "US",
                "first_name": "Bruno",
            },
        )
        self.grant("bruno", "email", "news")
        self.event("bruno", "subscription.confirmed", "bruno-signup")
        self.sent_to("bruno@example.com")

        self.step(
            "Carla (Sao Paulo, pt-BR) gets it too: her SMS waits for 08:00 local (R-TCPA-2 quiet hours)"
        )
        self.contact(
            "carla",
            {
                "email": "carla@example.com",
                "phone": CARLA_PHONE,
                "locale": "pt-BR",
                "timezone": "America/Sao_Paulo",
                "country": "BR",
                "first_name": "Carla",
            },
        )
        self.grant("carla", "sms", "news")
        self.event("carla", "subscription.confirmed", "carla-signup")
        self.out(f"   messages to Carla now: {len(self.outbox(CARLA_PHONE))}")
        self.clock(advance="10h")
        self.sent_to(CARLA_PHONE)

        self.step(
            "The same event again (same idempotency key): the same answer, nothing new starts (R-REL-2)"
        )
        self.event("carla", "subscription.confirmed", "carla-signup")
        runs = self.client.get("/v1/contacts/carla/export").json()["journey_runs"]
        self.out(f"   Carla's journey runs: {len(runs)}")

        self.step("Dan is a lead with an open deal: marketing holds off (sales hold)")
        self.contact(
            "dan",
            {
                "email": "dan@example.com",
                "locale": "en",
                "timezone": "Europe/London",
                "country": "GB",
                "sales": {"owner": "sam@example.com", "deal_open": True},
            },
        )
        self.grant("dan", "email", "offers")
        self.event("dan", "lead.created", "dan-lead-1")
        self.out(f"   messages to Dan: {len(self.outbox('dan@example.com'))}")

        self.step(
            "Hugo and Hilda are leads too: the nurture journey splits its leads (Hugo gets the short "
            "'story' variant) and holds one in ten out as a control (Hilda: sent nothing)"
        )
        for lead in ("hugo", "hilda"):
            self.contact(
                lead,
                {
                    "email": f"{lead}@example.com",
                    "locale": "en",
                    "timezone": "Europe/London",
                    "country": "GB",
                },
            )
            self.grant(lead, "email", "offers")
            self.event(lead, "lead.created", f"{lead}-lead-1")
            self.out(f"   messages to {lead.title()}: {len(self.outbox(f'{lead}@example.com'))}")
        self.step(
            "Both place an order (the journey's goal): each entry converts once, the repeat counts nothing"
        )
        for lead in ("hugo", "hilda"):
            self.event(lead, "order.placed", f"{lead}-order-1", order_id=f"{lead}-1")
            self.event(lead, "order.placed", f"{lead}-order-2", order_id=f"{lead}-2")
            items = self.client.get(f"/v1/contacts/{lead}/timeline?limit=100").json()["items"]
            conversions = [item["detail"] for item in items if item["kind"] == "journey.converted"]
            variants = ", ".join(str(detail.get("variant")) for detail in conversions)
            self.out(f"   {lead.title()}: {len(conversions)} conversion(s), variant {variants}")

        self.step("Bruno's order ships: a transactional text, no marketing consent needed")
        self.event(
            "bruno",
            "order.shipped",
            "order-1001",
            order_id="1001",
            tracking_url="https://track.example.com/1001",
        )
        self.event(
            "bruno",
            "order.shipped",
            "order-1001",
            order_id="1001",
            tracking_url="https://track.example.com/1001",
        )
        self.sent_to("+12125550123")

        self.step("Three days pass in a second; the welcome tip waits for 09:00-18:00 in New York")
        self.clock(advance="3d")
        self.out(f"   emails to Bruno so far: {len(self.outbox('bruno@example.com'))}")
        self.clock(advance="6h")
        self.sent_to("bruno@example.com")

        self.step("Timelines")
        self.timeline("bruno", "Bruno")
        self.timeline("carla", "Carla")
        self.timeline("dan", "Dan")
        self.timeline("hugo", "Hugo")
        self.timeline("hilda", "Hilda")
        self.out("\nJourney demo finished.")


class RelayDemo(JourneyDemo):
    """The relay race: a journey waits for a person, and escalates instead of following up hollowly."""

    def task_of(self, queue: str, contact_id: str) -> dict[str, Any]:
        resp = self.expect(self.client.get(f"/v1/tasks?queue={queue}"), 200, f"GET /v1/tasks?queue={queue}")
        tasks = [t for t in resp.json()["items"] if t["contact_id"] == contact_id]
        if len(tasks) != 1:
            raise DemoFailed(f"expected one open {queue} task for {contact_id}, got {len(tasks)}")
        task: dict[str, Any] = tasks[0]
        self.out(f"   task {task['task_id']} for {queue}, due {task['due_at']}")
        return task

    def receipt(self, message: dict[str, Any], status: str) -> None:
        """A carrier's delivery receipt for an SMS, as End User Messaging sends it to EventBridge."""
        detail = {
            "eventType": f"TEXT_{status}",
            "messageId": message["message_id"],
            "destinationPhoneNumber": message["to"],
            "messageStatus": status,
            "isFinal": True,
        }
        event = {
            "source": "aws.sms-voice",
            "detail-type": "Text Message Delivery Status Updated",
            "detail": detail,
        }
        self.expect(self.client.post("/_local/ses-event", json_body=event), 202, f"SMS receipt {status}")

    def delivered(self, message: dict[str, Any]) -> None:
        body = {"type": "delivery", "message_id": message["message_id"]}
        self.expect(self.client.post("/_local/ses-event", json_body=body), 202, "SES delivery event")

    def run(self) -> None:
        erin, fabio, gabi = "erin", "fabio", "gabi"
        self.step("Relay: Erin, Fabio and Gabi each open a support request (support-follow-up)")
        self.contact(
            erin,
            {
                "email": "erin@example.com",
                "phone": "+12125550188",
                "locale": "en",
                "timezone": "America/New_York",
                "country": "US",
                "first_name": "Erin",
            },
        )
        self.contact(
            fabio,
            {
                "email": "fabio@example.com",
                "locale": "pt-BR",
                "timezone": "America/Sao_Paulo",
                "country": "BR",
                "first_name": "Fabio",
            },
        )
        self.contact(
            gabi,
            {
                "email": "gabi@example.com",
                "locale": "en",
                "timezone": "America/New_York",
                "country": "US",
                "first_name": "Gabi",
            },
        )
        self.event(erin, "support.request_created", "req-1042", request_id="1042")
        self.event(gabi, "support.request_created", "req-1044", request_id="1044")
        self.event(fabio, "support.request_created", "req-1043", request_id="1043")
        self.sent_to("erin@example.com")
        self.sent_to("fabio@example.com")

        self.step("An agent answers Erin and completes the task through the API: the baton is passed")
        task = self.task_of("support-agents", erin)
        self.clock(advance="2h")
        done = {"outcome": "answered", "note": "Reset the password and confirmed by phone."}
        self.expect(
            self.client.post(f"/v1/tasks/{task['task_id']}/complete", json_body=done), 200, "complete"
        )
        gabi_task = self.task_of("support-agents", gabi)
        self.expect(
            self.client.post(f"/v1/tasks/{gabi_task['task_id']}/complete", json_body=done), 200, "complete"
        )
        again = self.client.post(f"/v1/tasks/{task['task_id']}/complete", json_body=done)
        self.out(f"   completing it again: HTTP {again.status} {again.json()['error']['code']}")

        self.step("Nobody picks up Fabio's task: after 24 h it escalates to the leads")
        self.clock(advance="22h")
        self.task_of("support-leads", fabio)

        self.step("A day after the answer, Erin's survey goes by SMS; the carrier says it failed, so email")
        self.clock(advance="2h")
        sms = self.outbox("+12125550188")
        if not sms:
            raise DemoFailed("the survey SMS was not sent")
        self.out(f"   sms: {sms[-1]['body'][:80]!r}")
        self.receipt(sms[-1], "UNREACHABLE")
        email = self.outbox("erin@example.com")[-1]
        self.out(f"   email instead: {email['subject']!r}")
        self.delivered(email)
        self.delivered(self.outbox("gabi@example.com")[-1])

        self.step("Erin answers the survey: the journey's wait receives its event and ends")
        self.event(erin, "survey.answered", "survey-1042", score=5)

        self.step("The leads miss Fabio's task too: the journey ends, and sends him nothing automated")
        self.clock(advance="1d")
        leads = self.client.get("/v1/tasks?queue=support-leads").json()["items"]
        self.out(f"   open tasks for Fabio: {len([t for t in leads if t['contact_id'] == fabio])}")

        self.step("Fabio's side: no survey, nothing automated after the promise")
        self.sent_to("fabio@example.com")

        self.step("Gabi never answers the survey: after 3 days the wait times out and one reminder goes")
        self.clock(advance="2d")
        self.sent_to("gabi@example.com")
        self.step("Timelines")
        self.timeline(erin, "Erin")
        self.timeline(fabio, "Fabio")
        self.timeline(gabi, "Gabi")
        self.out("\nRelay demo finished.")


class FiguresDemo(Demo):
    """What the journeys above add up to: the figures of each journey that ran, as `baton figures
    JOURNEY` prints them (counted from the timelines as they were written)."""

    def run(self) -> None:
        self.step("Figures: each journey the demo ran, as `baton figures JOURNEY` prints it")
        journeys = self.client.get("/v1/journeys").json()["items"]
        shown = 0
        for journey in sorted(item["id"] for item in journeys):
            answer = self.client.get(f"/v1/journeys/{journey}/figures")
            if answer.status != 200:
                raise DemoFailed(f"{journey} figures: HTTP {answer.status}: {answer.text[:500]}")
            counted = answer.json()
            if not counted["totals"].get("entered"):
                continue  # not run by the demo: nothing to show
            self.out(indent(figures.table(counted), "   "))
            shown += 1
        self.out(f"   journeys with figures: {shown}")
        self.out("\nFigures demo finished.")


ROOT = Path(__file__).resolve().parent.parent
# The day the demo's story begins on the local stack's clock, whatever today is: its journeys'
# review dates (welcome's is 2027-03-01) and the figures' days are the same on every run.
START: Final = datetime(2026, 12, 1, 9, tzinfo=UTC)
REVIEW_GRACE_DAYS: Final = 14  # cdk.json `review.graceDays` of the sample deployment


class InventoryDemo(JourneyDemo):
    """Nothing orphaned: every automated message with its owner, a message traced from its words
    back to them, approval bound to content, and a review date with teeth."""

    def __init__(
        self, client: LocalClient, out: Callable[[str], None] = print, journeys: Path = ROOT / "journeys"
    ) -> None:
        super().__init__(client, out)
        self.journeys = journeys

    def inventory(self, *, stale: bool, only: str | None = None) -> list[dict[str, Any]]:
        answer = self.client.get("/v1/inventory" + ("?stale=true" if stale else ""))
        if answer.status != 200:
            raise DemoFailed(f"GET /v1/inventory: HTTP {answer.status}: {answer.text[:300]}")
        entries: list[dict[str, Any]] = answer.json()["items"]
        return [e for e in entries if only is None or e.get("journey") == only]

    def cli(self, *args: str, keep: Callable[[str], bool] = lambda line: True) -> int:
        """A `baton` command as a person runs it, the lines `keep` keeps shown in the demo's."""
        printed = io.StringIO()
        command = cli.build_parser().parse_args(list(args))  # the process's logging stays as it is
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            code: int = command.run(command)
        self.out(f"   $ baton {' '.join(args)}")
        shown = [line for line in printed.getvalue().rstrip().splitlines() if keep(line)]
        self.out(indent("\n".join(shown), "     "))
        return code

    def validate(self, folder: Path) -> int:
        """`baton validate`, its issues and verdict shown (not its SMS and run estimates)."""
        return self.cli(
            "validate",
            str(folder),
            keep=lambda line: line.startswith(str(folder)) or line.endswith(("issue.", "issues.")),
        )

    def run(self) -> None:
        self.step("Inventory: what is due for review or retirement, as `baton inventory --stale` prints it")
        self.out(indent(inventory.as_table(self.inventory(stale=True)), "   "))

        self.step("Trace: a customer forwards a text message; whose is it? (`baton trace TEXT`)")
        sms = self.traced_sms()
        self.out(f"   the text: {sms['body'][:100]!r}")
        found = self.expect(
            self.client.post("/v1/messages/search", json_body={"text": sms["body"]}), 200, "search by words"
        ).json()
        self.out(indent(trace.matches({"matches": found["matches"][:2]}), "   "))
        by_id = self.expect(self.client.get(f"/v1/messages/{sms['message_id']}"), 200, "trace by id")
        self.out("   and by the provider's message id (GET /v1/messages/{id}):")
        self.out(indent(trace.message(by_id.json()), "   "))

        self.step("Approval bound to content: welcome-tip edited after legal approved it")
        with tempfile.TemporaryDirectory(prefix="baton-demo-") as scratch:
            copy = Path(scratch) / "journeys"
            shutil.copytree(self.journeys, copy)
            tip = copy / "templates" / "welcome-tip.yaml"
            tip.write_text(
                tip.read_text(encoding="utf-8").replace("A tip", "A great tip", 1), encoding="utf-8"
            )
            self.out("   changed the subject's words: 'A tip ...' -> 'A great tip ...'")
            if self.validate(copy) == 0:
                raise DemoFailed("baton validate passed a marketing template edited after its approval")
            self.out("   synth fails on the same issue, and a send of those words is refused (not_approved)")
            self.cli("approve", "welcome-tip", "--by", "legal@example.com", "--path", str(copy))
            if self.validate(copy) != 0:
                raise DemoFailed("baton validate refused welcome-tip after its re-approval")

        self.step("Review dates: the clock moves past welcome's review date")
        welcome = self.expect(self.client.get("/v1/journeys/welcome"), 200, "GET /v1/journeys/welcome").json()
        overdue = f"{_next_day(str(welcome['review_by']))}T09:00:00Z"
        closes = (datetime.fromisoformat(overdue) + timedelta(days=REVIEW_GRACE_DAYS)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        if self.now() < overdue:  # a stack whose clock is already past it shows the end alone
            self.clock(to=overdue)
            self.show_statuses("welcome")
        self.out("   two weeks' grace later, a marketing journey still not reviewed admits no new contact:")
        if self.now() < closes:
            self.clock(to=closes)
        self.show_statuses("welcome")
        self.contact("iris", {"email": "iris@example.com", "first_name": "Iris", "country": "US"})
        self.grant("iris", "email", "news")
        self.event("iris", "subscription.confirmed", "iris-signup")
        self.timeline("iris", "Iris")
        self.out("   its owner moves review_by in journeys/welcome.yaml (a reviewed commit) to reopen it.")
        self.out("\nInventory demo finished.")

    def traced_sms(self) -> dict[str, Any]:
        """The journey demo's welcome text to Carla, which a trace by id finds."""
        messages = self.expect(self.client.get("/_local/outbox"), 200, "outbox").json()
        for message in messages:
            if message["channel"] != "sms" or message["to"] != CARLA_PHONE:
                continue
            answer = self.client.get(f"/v1/messages/{message['message_id']}")
            if answer.status == 200 and answer.json().get("journey"):
                found: dict[str, Any] = message
                return found
        raise DemoFailed("no text message of the journey demo in the outbox to trace")

    def now(self) -> str:
        now: str = self.client.get("/_local/clock").json()["now"]
        return now

    def show_statuses(self, journey: str) -> None:
        for entry in self.inventory(stale=False, only=journey):
            self.out(f"   {entry['id']:<24} review by {entry['review_by']}  {' '.join(entry['statuses'])}")


def _next_day(iso: str) -> str:
    return (date.fromisoformat(iso[:10]) + timedelta(days=1)).isoformat()


def _summary(detail: dict[str, Any]) -> str:
    keys = (
        "journey",
        "step",
        "channel",
        "topic",
        "status",
        "outcome",
        "variant",
        "reason",
        "until",
        "keyword",
        "subject",
        "text",
        "to",
        "purpose",
    )
    parts = [f"{k}={detail[k]}" for k in keys if detail.get(k) not in (None, "", [])]
    return " ".join(parts)[:110]


def run_demo(base_url: str, token: str, out: Callable[[str], None] = print) -> None:
    client = LocalClient(base_url, token)
    Demo(client, out).run()
    JourneyDemo(client, out).run()
    RelayDemo(client, out).run()
    FiguresDemo(client, out).run()
    InventoryDemo(client, out).run()
