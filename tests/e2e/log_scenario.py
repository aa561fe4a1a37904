"""A whole customer's story on the local stack, with every logger of the process at DEBUG.

Run by `test_logs_scenario.py` in a fresh interpreter, so that everything the process writes
(every logger through the root handler, Powertools' own lines, prints, tracebacks) is on its
stdout and stderr. Usage: `python log_scenario.py TEMPLATE.json PERSONAL.json`; it writes the
personal data and link tokens it used to PERSONAL.json for the test to look for, and prints
nothing of them itself.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from infra.http_client import HttpResponse, LocalClient
from infra.local import LocalStack

EMAIL = "Zelinda.Quaresma@Example.com"
PHONE_TYPED = "(11) 97654-3210"
PHONE_E164 = "+5511976543210"
FIRST_NAME = "Zelinda"
LAST_NAME = "Quaresma"
CONSENT_TEXT = "Quero receber as novidades da Baton por e-mail e SMS."
PAGE_URL = "https://www.example.com/pt-br/cadastro?ref=rodape"
USER_AGENT = "Mozilla/5.0 (ZelindaBrowser 7.1)"
FREE_TEXT = "Obrigada, chego na quinta-feira"
ORDER_ADDRESS = "Rua das Acacias 417, Pinheiros"
BAD_PHONE = "liga pra Zelinda no trabalho"
BAD_EMAIL = "zelinda.quaresma.at.trabalho"
_LINK = re.compile(r"https?://[^\s\"'<>]+")
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class EverythingFormatter(logging.Formatter):
    """The line, its traceback, and every `extra` value a handler could write."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = {key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS}
        return f"{line} extra={extra!r}" if extra else line


def expect(resp: HttpResponse, *statuses: int) -> HttpResponse:
    if resp.status not in statuses:
        raise SystemExit(f"expected HTTP {statuses}, got {resp.status}")
    return resp


def outbox(api: LocalClient, to: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = expect(api.get(f"/_local/outbox?{urlencode({'to': to})}"), 200).json()
    return messages


def links(message: dict[str, Any], marker: str) -> list[str]:
    texts = [value for value in message.values() if isinstance(value, str)]
    texts += [str(value) for value in (message.get("headers") or {}).values()]
    return [unescape(url) for text in texts for url in _LINK.findall(text) if marker in url]


def path_of(url: str) -> str:
    return urlsplit(url).path


def sms_in(api: LocalClient, body: str) -> None:
    # Two-way SMS reports the sender in E.164.
    expect(api.post("/_local/sms-inbound", json_body={"from": PHONE_E164, "body": body}), 202)


def run(api: LocalClient) -> list[str]:
    """The story; returns every link token it was sent."""
    signup = {
        "email": EMAIL,
        "phone": PHONE_TYPED,
        "first_name": FIRST_NAME,
        "locale": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "country": "BR",
        "topics": ["news"],
        "channels": ["email", "sms"],
        "consent_text": CONSENT_TEXT,
        "form_id": "cadastro-rodape",
        "page_url": PAGE_URL,
    }
    form = {"User-Agent": USER_AGENT}
    created = expect(api.post("/v1/subscriptions", auth=False, json_body=signup, headers=form), 202).json()
    contact_id = created["contact_id"]
    expect(api.put(f"/v1/contacts/{contact_id}", json_body={"last_name": LAST_NAME}), 200, 201)

    # The confirmation link (the page, then its button), and YES by SMS.
    confirmation = outbox(api, EMAIL.lower())[-1]
    confirm = path_of(links(confirmation, "/v1/confirm/")[0])
    page = expect(api.get(confirm, auth=False, headers=form), 200)
    as_form = {**form, "Content-Type": "application/x-www-form-urlencoded"}
    api.post(confirm, auth=False, data="", headers=as_form)
    sms_in(api, "SIM")
    sms_in(api, FREE_TEXT)
    sms_in(api, "AJUDA")

    # An event whose journey texts the order's news (SMS first, email failover), with data.
    order = {
        "contact_id": contact_id,
        "type": "order.shipped",
        "data": {
            "order_id": "PED-3301",
            "tracking_url": "https://track.example.com/PED-3301",
            "ship_to": ORDER_ADDRESS,
        },
        "idempotency_key": "order-PED-3301",
    }
    expect(api.post("/v1/events", json_body=order), 202)
    # Three days on: the welcome journey's tip email.
    expect(api.post("/_local/clock", json_body={"advance": "3d"}), 200)

    # A failed send: the last email hard-bounces.
    sent = outbox(api, EMAIL.lower())
    bounce = {"type": "bounce", "message_id": sent[-1]["message_id"]}
    expect(api.post("/_local/ses-event", json_body=bounce), 202)

    # Bad requests that carry personal data in their bodies.
    bad = {**signup, "phone": BAD_PHONE, "email": BAD_EMAIL}
    expect(api.post("/v1/subscriptions", auth=False, json_body=bad, headers=form), 400, 422)
    bad_upsert = {"phone": BAD_PHONE, "email": BAD_EMAIL}
    expect(api.put(f"/v1/contacts/{contact_id}", json_body=bad_upsert), 400, 422)
    malformed = f'{{"email": "{EMAIL}", "first_name": "{FIRST_NAME}",'
    as_json = {**form, "Content-Type": "application/json"}
    expect(api.post("/v1/subscriptions", auth=False, data=malformed, headers=as_json), 400, 422)

    # The preference page, a forged link, the unsubscribe link (page and one click), STOP.
    preferences = [path_of(url) for url in links({"body": page.text}, "/v1/preferences/")]
    for url in preferences[:1]:
        expect(api.get(url, auth=False, headers=form), 200)
    forged = confirm[:-6] + ("AAAAAA" if not confirm.endswith("AAAAAA") else "BBBBBB")
    expect(api.get(forged, auth=False), 403)
    unsubscribe = path_of(confirmation["headers"]["List-Unsubscribe"].strip("<>"))
    api.get(unsubscribe, auth=False, headers=form)
    one_click = {"Content-Type": "application/x-www-form-urlencoded"}
    expect(api.post(unsubscribe, auth=False, data="List-Unsubscribe=One-Click", headers=one_click), 200)
    sms_in(api, "STOP")

    # The back office reads everything, then erases the person.
    expect(api.get(f"/v1/contacts/{contact_id}/export"), 200)
    expect(api.get(f"/v1/contacts/{contact_id}/timeline?limit=100"), 200)
    expect(api.delete(f"/v1/contacts/{contact_id}"), 202)

    every = outbox(api, EMAIL.lower()) + outbox(api, PHONE_E164)
    found = {
        path_of(url).rsplit("/", 1)[-1]
        for message in every
        for marker in ("/v1/confirm/", "/v1/preferences/", "/v1/unsubscribe/")
        for url in links(message, marker)
    }
    return sorted(found | {path_of(url).rsplit("/", 1)[-1] for url in preferences})


def main(template_path: str, personal_path: str) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EverythingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG, handlers=[handler])
    logging.captureWarnings(True)
    stack = LocalStack(json.loads(Path(template_path).read_text()))
    stack.start(port=0)
    try:
        tokens = run(LocalClient(stack.base_url, stack.token))
    finally:
        stack.stop()
    personal = [
        EMAIL,
        PHONE_TYPED,
        PHONE_E164,
        PHONE_E164.removeprefix("+"),
        "97654-3210",
        FIRST_NAME,
        LAST_NAME,
        CONSENT_TEXT,
        PAGE_URL,
        USER_AGENT,
        FREE_TEXT,
        ORDER_ADDRESS,
        BAD_PHONE,
        BAD_EMAIL,
    ]
    Path(personal_path).write_text(json.dumps({"personal": personal, "tokens": tokens}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
