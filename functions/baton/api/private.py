"""Private routes (CRM and back office; IAM auth in AWS): contacts (one at a time or a file of
them), export, timeline, consents, events (journey triggers), the journeys inventory, campaign
runs, message traces and the operator's do-not-contact lists."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from baton import privacy
from baton.api.resolver import create_resolver
from baton.bootstrap import figures_service, services
from baton.campaigns.models import CampaignIn, RunId
from baton.campaigns.wiring import campaign_service
from baton.consent.commands import RecordConsent
from baton.consent.models import ConsentEntry, ConsentState
from baton.consent.recording import record_consent
from baton.contacts.models import ContactId, ContactInput
from baton.do_not_contact.models import (
    MAX_LOAD_BYTES,
    MAX_PARTS,
    ListLoad,
    ListName,
    LoadCommit,
    LoadId,
)
from baton.figures.service import span
from baton.handoffs.models import Completion, TaskId, TaskList, TaskView
from baton.handoffs.wiring import handoff_service
from baton.imports.models import MAX_IMPORT_BYTES
from baton.imports.service import import_contacts, import_format
from baton.tracing.models import MAX_QUERY_TEXT_CHARS, MessageId, TextSearch
from baton.tracing.wiring import trace_service
from baton.triggers import wiring
from baton.triggers.exceptions import JourneyNotFound
from baton.triggers.models import EventIn

router = Router()  # type: ignore[no-untyped-call]


def _json(status: int, payload: BaseModel) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=payload.model_dump_json()
    )


class ConsentRecorded(BaseModel):
    """The answer to a recorded consent: the state now and the ledger entry written (None: no change)."""

    state: ConsentState
    entry: ConsentEntry | None


def _actor() -> str | None:
    """The IAM principal API Gateway authenticated (AWS_IAM), kept as the consent's actor."""
    identity = (router.current_event.get("requestContext") or {}).get("identity") or {}
    arn: str | None = identity.get("userArn") or identity.get("caller")
    return arn


@router.put("/v1/contacts/<contact_id>")
def upsert_contact(contact_id: ContactId, contact: ContactInput) -> Response[str]:
    result = services().contacts.upsert(contact_id, contact)
    return _json(HTTPStatus.CREATED if result.created else HTTPStatus.OK, result.contact)


_IMPORT_PATH = "/v1/contacts:import"


@router.post(_IMPORT_PATH)
def import_file() -> Response[str]:
    """A CSV (`text/csv`) or JSON-lines (`application/x-ndjson`) file of contacts, all or none."""
    event = router.current_event
    fmt = import_format(event.headers.get("content-type"))
    return _json(HTTPStatus.OK, import_contacts(services(), event.body or "", fmt, _actor()))


@router.get("/v1/contacts/<contact_id>")
def get_contact(contact_id: ContactId) -> Response[str]:
    return _json(HTTPStatus.OK, services().contacts.get(contact_id))


@router.delete("/v1/contacts/<contact_id>")
def erase_contact(contact_id: ContactId) -> Response[str]:
    return _json(HTTPStatus.ACCEPTED, privacy.erase_contact(services(), contact_id))


@router.get("/v1/contacts/<contact_id>/export")
def export_contact(contact_id: ContactId) -> Response[str]:
    return _json(HTTPStatus.OK, privacy.export_contact(services(), contact_id))


@router.get("/v1/contacts/<contact_id>/timeline")
def timeline(
    contact_id: ContactId,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    s = services()
    s.contacts.get(contact_id)
    return _json(HTTPStatus.OK, s.timeline.page(contact_id, limit=limit, cursor=cursor))


@router.post("/v1/contacts/<contact_id>/consents")
def record(contact_id: ContactId, command: RecordConsent) -> Response[str]:
    change = record_consent(services(), contact_id, command, _actor())
    status = HTTPStatus.CREATED if change.entry is not None else HTTPStatus.OK
    return _json(status, ConsentRecorded(state=change.state, entry=change.entry))


@router.post("/v1/events")
def record_event(event: EventIn) -> Response[str]:
    events = wiring.event_service(services(), router.lambda_context)
    return _json(HTTPStatus.ACCEPTED, events.record(event))


@router.get("/v1/journeys")
def list_journeys() -> Response[str]:
    return _json(HTTPStatus.OK, wiring.inventory(services()).list())


@router.get("/v1/journeys/<journey_id>")
def get_journey(journey_id: str) -> Response[str]:
    return _json(HTTPStatus.OK, wiring.inventory(services()).get(journey_id))


# The inventory of every automated message, and the templates with who uses them.
@router.get("/v1/inventory")
def list_inventory(stale: Annotated[bool, Query()] = False) -> Response[str]:
    return _json(HTTPStatus.OK, wiring.inventory_service(services()).entries(stale=stale))


@router.get("/v1/templates")
def list_templates() -> Response[str]:
    return _json(HTTPStatus.OK, wiring.inventory_service(services()).templates())


@router.get("/v1/templates/<template_id>")
def get_template(template_id: str) -> Response[str]:
    return _json(HTTPStatus.OK, wiring.inventory_service(services()).template(template_id))


# Figures, counted from the timelines as they are written.
# `from` is a Python keyword: the parameter's alias; `span` checks both (a 422 naming the field).
_From = Annotated[str | None, Query(alias="from", max_length=10)]
_To = Annotated[str | None, Query(max_length=10)]


def _today() -> date:
    return services().clock.now().date()


@router.get("/v1/journeys/<journey_id>/figures")
def journey_figures(journey_id: str, from_: _From = None, to: _To = None) -> Response[str]:
    s = services()
    journey = wiring.services_catalog(s).journeys.get(journey_id)
    if journey is None:
        raise JourneyNotFound(journey_id)
    first, last = span(from_, to, _today())
    steps = [step.id for step in journey.steps]
    return _json(HTTPStatus.OK, figures_service(s).journey(journey_id, first, last, steps))


@router.get("/v1/queues/<queue>/figures")
def queue_figures(
    queue: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")], from_: _From = None, to: _To = None
) -> Response[str]:
    first, last = span(from_, to, _today())
    return _json(HTTPStatus.OK, figures_service(services()).queue(queue, first, last))


# Tracing: a sent message by either id, or a text a person saw, back to its journey and owners.
# The POST keeps the text (which may quote a person's message) out of URLs and access logs.
@router.get("/v1/messages/<message_id>")
def trace_message(message_id: MessageId) -> Response[str]:
    return _json(HTTPStatus.OK, trace_service(services()).message(message_id))


@router.get("/v1/messages")
def trace_text(text: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_TEXT_CHARS)]) -> Response[str]:
    return _json(HTTPStatus.OK, trace_service(services()).text(TextSearch(text=text).text))


@router.post("/v1/messages/search")
def search_text(search: TextSearch) -> Response[str]:
    return _json(HTTPStatus.OK, trace_service(services()).text(search.text))


# Hand-offs: a queue's open tasks, and passing the baton back to the journey.
@router.get("/v1/tasks")
def list_tasks(queue: Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]) -> Response[str]:
    tasks = handoff_service(services()).list_open(queue)
    return _json(HTTPStatus.OK, TaskList(queue=queue, items=[TaskView.of(task) for task in tasks]))


@router.post("/v1/tasks/<task_id>/complete")
def complete_task(task_id: TaskId, completion: Completion) -> Response[str]:
    task = handoff_service(services()).complete(task_id, completion.outcome, completion.note)
    return _json(HTTPStatus.OK, TaskView.of(task))


# Campaigns: a journey sent to a segment's audience, now or at a time; its figures while it runs;
# pause, resume and cancel.
@router.post("/v1/campaigns")
def start_campaign(campaign: CampaignIn) -> Response[str]:
    return _json(HTTPStatus.ACCEPTED, campaign_service(services()).start(campaign))


@router.get("/v1/campaigns/<run_id>")
def get_campaign(run_id: RunId) -> Response[str]:
    return _json(HTTPStatus.OK, campaign_service(services()).view(run_id))


@router.post("/v1/campaigns/<run_id>/pause")
def pause_campaign(run_id: RunId) -> Response[str]:
    return _json(HTTPStatus.OK, campaign_service(services()).pause(run_id))


@router.post("/v1/campaigns/<run_id>/resume")
def resume_campaign(run_id: RunId) -> Response[str]:
    return _json(HTTPStatus.OK, campaign_service(services()).resume(run_id))


@router.post("/v1/campaigns/<run_id>/cancel")
def cancel_campaign(run_id: RunId) -> Response[str]:
    return _json(HTTPStatus.OK, campaign_service(services()).cancel(run_id))


# R-BR-1: an operator loads a do-not-contact list whole (at most MAX_NUMBERS numbers) or in parts
# (begin a load, send its parts, commit it), and reads which generation is in force; no answer
# ever shows a number.
_LIST_PATH = "/v1/do-not-contact/"


@router.put("/v1/do-not-contact/<list_name>")
def load_list(list_name: ListName, load: ListLoad) -> Response[str]:
    return _json(HTTPStatus.OK, services().do_not_contact.load(list_name, load.numbers))


@router.post("/v1/do-not-contact/<list_name>/loads")
def begin_load(list_name: ListName) -> Response[str]:
    return _json(HTTPStatus.CREATED, services().do_not_contact.begin(list_name))


@router.put("/v1/do-not-contact/<list_name>/loads/<load_id>/parts/<part>")
def store_part(
    list_name: ListName, load_id: LoadId, part: Annotated[int, Path(ge=1, le=MAX_PARTS)], load: ListLoad
) -> Response[str]:
    return _json(HTTPStatus.OK, services().do_not_contact.store_part(list_name, load_id, part, load.numbers))


@router.post("/v1/do-not-contact/<list_name>/loads/<load_id>/commit")
def commit_load(list_name: ListName, load_id: LoadId, commit: LoadCommit) -> Response[str]:
    lists = services().do_not_contact
    return _json(HTTPStatus.OK, lists.commit(list_name, load_id, commit.parts, commit.numbers))


@router.get("/v1/do-not-contact/<list_name>")
def list_status(list_name: ListName) -> Response[str]:
    return _json(HTTPStatus.OK, services().do_not_contact.status(list_name))


def body_limit(event: dict[str, Any], default: int) -> int:
    """The body size a request may have: a list load carries a whole list, an import a part of a
    file, others `default`."""
    path = str(event.get("path") or "")
    if event.get("httpMethod") == "PUT" and path.startswith(_LIST_PATH):
        return max(default, MAX_LOAD_BYTES)
    if event.get("httpMethod") == "POST" and path == _IMPORT_PATH:
        return max(default, MAX_IMPORT_BYTES)
    return default


@lru_cache(maxsize=1)
def app() -> APIGatewayRestResolver:
    resolver = create_resolver()
    resolver.include_router(router)
    return resolver
