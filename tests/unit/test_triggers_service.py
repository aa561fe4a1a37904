"""EventService on in-memory repositories: what an event starts, what it stops, what it records."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from baton.clock import FixedClock
from baton.consent.repository import InMemoryConsentRepository
from baton.consent.service import ConsentService
from baton.contacts.exceptions import ContactNotFound
from baton.contacts.models import ContactInput
from baton.contacts.repository import InMemoryContactRepository
from baton.contacts.service import ContactService
from baton.journeys.catalog import Catalog
from baton.journeys.models import Journey
from baton.suppression.repository import InMemorySuppressionRepository
from baton.suppression.service import SuppressionService
from baton.timeline.repository import InMemoryTimelineRepository
from baton.timeline.service import TimelineService
from baton.triggers.exceptions import JourneyNotFound, JourneysNotConfigured
from baton.triggers.executions import InMemoryExecutions, execution_arn
from baton.triggers.inventory import Inventory
from baton.triggers.models import EventIn, Run, RunStatus
from baton.triggers.naming import continuation_name, execution_name
from baton.triggers.runs import InMemoryRunRepository
from baton.triggers.service import EXITED_ERROR, EventService, execution_input
from baton.triggers.subjects import LIFETIME, InMemorySubjectRepository, Subject

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PREFIX = "arn:aws:states:us-east-1:123456789012:stateMachine:Baton-"
NAMING_KEY = b"n" * 32


def _name(journey_id: str, contact_id: str, key: str, generation: str | None = None) -> str:
    return execution_name(journey_id, contact_id, key, key=NAMING_KEY, generation=generation)


def _journey(journey_id: str, trigger: str, exit_on: list[str] | None = None, **extra: Any) -> Journey:
    return Journey.model_validate(
        {
            "journey": journey_id,
            "owner": "growth@example.com",
            "purpose": "transactional",
            "review_by": "2027-01-01",
            "trigger": {"event": trigger},
            "exit_on": exit_on or [],
            "steps": [{"id": "hello", "send": {"template": "hello", "channels": ["email"]}}],
            **extra,
        }
    )


CATALOG = Catalog(
    root=Path("journeys"),
    journeys={
        j.journey: j
        for j in (
            _journey("welcome", "contact.confirmed", exit_on=["contact.left"]),
            _journey("welcome-tips", "contact.confirmed"),
            _journey("order-thanks", "order.paid", exit_on=["order.refunded", "contact.left"]),
        )
    },
)


class World:
    def __init__(self, prefix: str = PREFIX) -> None:
        self.clock = FixedClock(T0)
        self.timeline = TimelineService(InMemoryTimelineRepository(), self.clock)
        consent = ConsentService(InMemoryConsentRepository(), self.timeline, self.clock)
        suppression = SuppressionService(InMemorySuppressionRepository(), lambda: b"salt" * 16, self.clock)
        self.contacts = ContactService(
            InMemoryContactRepository(), consent, self.timeline, suppression, self.clock
        )
        self.runs = InMemoryRunRepository()
        self.subjects = InMemorySubjectRepository()
        self.executions = InMemoryExecutions()
        self.service = EventService(
            catalog=CATALOG,
            contacts=self.contacts,
            timeline=self.timeline,
            runs=self.runs,
            subjects=self.subjects,
            executions=self.executions,
            clock=self.clock,
            state_machine_arn_prefix=prefix,
            naming_key=lambda: NAMING_KEY,
        )
        for contact_id in ("ana", "bo"):
            self.contacts.upsert(contact_id, ContactInput(email=f"{contact_id}@example.com"))

    def name(self, journey_id: str, contact_id: str, key: str) -> str:
        """The execution name of this start for the contact as it is now (its generation)."""
        return _name(journey_id, contact_id, key, self.contacts.generation(contact_id))

    def kinds(self, contact_id: str, kind: str) -> list[dict[str, Any]]:
        return [dict(e.detail) for e in self.timeline.all(contact_id) if e.kind == kind]


def _event(contact_id: str = "ana", type_: str = "contact.confirmed", key: str = "k1") -> EventIn:
    return EventIn(contact_id=contact_id, type=type_, data={"plan": "gold"}, idempotency_key=key)


@pytest.fixture
def world() -> World:
    return World()


def test_an_event_starts_every_journey_whose_trigger_it_is(world: World) -> None:
    answer = world.service.record(_event())

    assert answer.journeys_started == ["welcome", "welcome-tips"]
    assert set(world.executions.statuses) == {
        execution_arn(f"{PREFIX}welcome", world.name("welcome", "ana", "k1")),
        execution_arn(f"{PREFIX}welcome-tips", world.name("welcome-tips", "ana", "k1")),
    }


def test_the_execution_input_names_neither_the_contact_nor_the_data_nor_the_key(world: World) -> None:
    world.service.record(_event())

    arn = execution_arn(f"{PREFIX}welcome", world.name("welcome", "ana", "k1"))
    assert json.loads(world.executions.inputs[arn]) == {"event": {"type": "contact.confirmed"}, "steps": {}}
    # byte-identical for the same event, so Step Functions treats a repeat as the same start
    assert execution_input(_event()) == world.executions.inputs[arn]


def test_whom_each_execution_is_about_is_kept_outside_it_under_its_name(world: World) -> None:
    world.service.record(_event())

    name = world.name("welcome", "ana", "k1")
    assert world.subjects.get(name) == Subject(
        execution_name=name,
        contact_id="ana",
        journey="welcome",
        event_type="contact.confirmed",
        data={"plan": "gold"},
        expires_at=int((T0 + LIFETIME).timestamp()),
    )


def test_whom_an_execution_is_about_expires_only_after_the_longest_execution_and_its_redrive(
    world: World,
) -> None:
    world.service.record(_event())

    subject = world.subjects.get(world.name("welcome", "ana", "k1"))

    assert subject is not None
    assert subject.expires_at is not None
    # Standard executions run up to a year (R-REL-1) and are redriven within 14 days (R-REL-5).
    assert subject.expires_at > int((T0 + timedelta(days=365 + 14)).timestamp())


def test_a_repeated_start_keeps_the_subject_the_running_execution_reads(world: World) -> None:
    world.service.record(_event())
    changed = EventIn(
        contact_id="ana", type="contact.confirmed", data={"plan": "silver"}, idempotency_key="k1"
    )

    world.service.record(changed)  # this world keeps no idempotency records: only the name dedupes

    subject = world.subjects.get(world.name("welcome", "ana", "k1"))
    assert subject is not None
    assert subject.data == {"plan": "gold"}


def test_the_execution_name_is_a_keyed_hash_a_dictionary_of_contact_ids_cannot_reverse() -> None:
    material = json.dumps(["welcome", "ana", "k1"]).encode()
    plain = hashlib.sha256(material).hexdigest()[:40]

    name = _name("welcome", "ana", "k1")

    assert name.startswith("welcome-")
    assert name != f"welcome-{plain}"
    assert name != execution_name("welcome", "ana", "k1", key=b"another key", generation=None)
    assert "ana" not in name.removeprefix("welcome-")


def test_each_start_is_recorded_on_the_timeline_and_in_the_runs(world: World) -> None:
    world.service.record(_event())

    assert world.kinds("ana", "journey.started") == [
        {
            "journey": journey_id,
            "execution": world.name(journey_id, "ana", "k1"),
            "event": "contact.confirmed",
            "idempotency_key": "k1",
        }
        for journey_id in ("welcome-tips", "welcome")  # newest first
    ]
    runs = world.runs.of_contact("ana")
    assert [(r.journey, r.status, r.started_at) for r in runs] == [
        ("welcome", RunStatus.RUNNING, T0),
        ("welcome-tips", RunStatus.RUNNING, T0),
    ]


def test_an_event_that_triggers_nothing_starts_nothing(world: World) -> None:
    assert world.service.record(_event(type_="page.viewed")).journeys_started == []
    assert world.executions.statuses == {}


def test_r_rel_2_the_same_key_again_answers_the_same_and_records_nothing_new(world: World) -> None:
    first = world.service.record(_event())

    again = world.service.record(_event())

    assert again == first
    assert len(world.executions.statuses) == 2
    assert len(world.kinds("ana", "journey.started")) == 2


def test_an_unknown_contact_starts_nothing(world: World) -> None:
    with pytest.raises(ContactNotFound):
        world.service.record(_event(contact_id="nobody"))

    assert world.executions.statuses == {}


def test_exit_on_stops_the_contacts_running_runs_of_that_journey_only(world: World) -> None:
    world.service.record(_event("ana"))
    world.service.record(_event("bo"))
    world.service.record(_event("ana", "order.paid", "order-1"))

    world.service.record(_event("ana", "contact.left", "left-1"))

    stopped = {arn for arn, _, _ in world.executions.stopped}
    assert stopped == {
        execution_arn(f"{PREFIX}welcome", world.name("welcome", "ana", "k1")),
        execution_arn(f"{PREFIX}order-thanks", world.name("order-thanks", "ana", "order-1")),
    }
    assert {error for _, error, _ in world.executions.stopped} == {EXITED_ERROR}
    assert sorted(d["journey"] for d in world.kinds("ana", "journey.exited")) == ["order-thanks", "welcome"]
    assert world.kinds("bo", "journey.exited") == []
    statuses = {r.journey: (r.status, r.exited_on) for r in world.runs.of_contact("ana")}
    assert statuses == {
        "welcome": (RunStatus.ABORTED, "contact.left"),
        "order-thanks": (RunStatus.ABORTED, "contact.left"),
        "welcome-tips": (RunStatus.RUNNING, None),
    }


def test_r_rel_1_an_exit_also_stops_the_execution_a_run_was_handed_on_to_meanwhile(world: World) -> None:
    # given Ana's welcome run, handed on to a new execution (R-REL-1) just as the exit stops it
    world.service.record(_event("ana"))
    (old,) = [r for r in world.runs.of_contact("ana") if r.journey == "welcome"]
    continued = old.model_copy(
        update={
            "execution_name": continuation_name(old.execution_name),
            "execution_arn": execution_arn(f"{PREFIX}welcome", continuation_name(old.execution_name)),
            "continues": old.execution_name,
        }
    )
    real_stop = world.executions.stop

    def stop_while_handed_on(arn: str, *, error: str, cause: str) -> None:
        real_stop(arn, error=error, cause=cause)
        if arn == old.execution_arn:
            world.runs.add(continued)
            world.executions.start(f"{PREFIX}welcome", continued.execution_name, "{}")

    world.executions.stop = stop_while_handed_on  # type: ignore[method-assign]

    world.service.record(_event("ana", "contact.left", "left-1"))

    stopped = [arn for arn, _, _ in world.executions.stopped]
    assert stopped == [old.execution_arn, continued.execution_arn]
    assert {r.execution_name: r.status for r in world.runs.of_journey("ana", "welcome")} == {
        old.execution_name: RunStatus.ABORTED,
        continued.execution_name: RunStatus.ABORTED,
    }


def test_an_exit_stop_cause_kept_in_the_history_does_not_quote_the_callers_key(world: World) -> None:
    world.service.record(_event("ana"))

    world.service.record(_event("ana", "contact.left", "left-ana@example.com"))

    (_, _, cause), *_ = world.executions.stopped
    assert cause == "exit_on event contact.left"


def test_exit_on_records_how_an_already_finished_run_ended_and_stops_nothing(world: World) -> None:
    world.service.record(_event("ana", "order.paid", "order-1"))
    arn = execution_arn(f"{PREFIX}order-thanks", world.name("order-thanks", "ana", "order-1"))
    world.executions.statuses[arn] = RunStatus.SUCCEEDED

    world.service.record(_event("ana", "order.refunded", "refund-1"))

    assert world.executions.stopped == []
    assert world.kinds("ana", "journey.exited") == []
    (run,) = world.runs.of_contact("ana")
    assert run.status is RunStatus.SUCCEEDED


def test_an_event_that_starts_and_exits_a_journey_keeps_the_run_it_just_started(world: World) -> None:
    catalog = Catalog(root=Path("j"), journeys={"loop": _journey("loop", "ping", exit_on=["ping"])})
    service = EventService(
        catalog=catalog,
        contacts=world.contacts,
        timeline=world.timeline,
        runs=world.runs,
        subjects=world.subjects,
        executions=world.executions,
        clock=world.clock,
        state_machine_arn_prefix=PREFIX,
        naming_key=lambda: NAMING_KEY,
    )
    service.record(_event(type_="ping", key="p1"))

    service.record(_event(type_="ping", key="p2"))

    # the first run is stopped by the second ping, the second one runs on
    assert [arn.rsplit(":", 1)[1] for arn, _, _ in world.executions.stopped] == [
        world.name("loop", "ana", "p1")
    ]


def test_without_the_state_machine_prefix_no_journey_can_start() -> None:
    world = World(prefix="")

    with pytest.raises(JourneysNotConfigured):
        world.service.record(_event())


# Execution names ----------------------------------------------------------------------------


def test_r_rel_2_execution_names_are_deterministic_and_fit_step_functions_rules() -> None:
    name = _name("welcome", "ana", "k1")

    assert name == _name("welcome", "ana", "k1")
    assert re.fullmatch(r"welcome-[0-9a-f]{40}", name)


@pytest.mark.parametrize(
    "other",
    [("welcome-tips", "ana", "k1"), ("welcome", "bo", "k1"), ("welcome", "ana", "k2")],
)
def test_any_other_journey_contact_or_key_gets_another_name(other: tuple[str, str, str]) -> None:
    assert _name(*other) != _name("welcome", "ana", "k1")


def test_another_life_of_the_contact_gets_another_name_and_a_contact_without_one_keeps_its_old_name() -> None:
    first, second = _name("welcome", "ana", "k1", "gen-1"), _name("welcome", "ana", "k1", "gen-2")
    digest = hmac.new(NAMING_KEY, json.dumps(["welcome", "ana", "k1"]).encode(), hashlib.sha256).hexdigest()

    assert first != second
    assert _name("welcome", "ana", "k1") == f"welcome-{digest[:40]}"  # as named before generations


def test_erasing_and_creating_the_contact_again_lets_the_same_event_start_a_new_execution(
    world: World,
) -> None:
    world.service.record(_event())
    before = set(world.executions.statuses)
    world.contacts.erase("ana")
    world.runs.delete_all("ana")
    world.subjects.delete_all("ana")
    world.contacts.upsert("ana", ContactInput(email="ana@example.com"))

    answer = world.service.record(_event())

    assert answer.journeys_started == ["welcome", "welcome-tips"]
    assert len(set(world.executions.statuses) - before) == 2
    assert [run.execution_name for run in world.runs.of_journey("ana", "welcome")] == [
        world.name("welcome", "ana", "k1")
    ]


def test_an_event_started_under_a_name_made_before_generations_is_not_started_twice(world: World) -> None:
    old = _name("welcome", "ana", "k1")  # the run a deploy before this one started
    world.runs.add(
        Run(
            contact_id="ana",
            journey="welcome",
            execution_name=old,
            execution_arn=execution_arn(f"{PREFIX}welcome", old),
            started_at=T0,
            event_type="contact.confirmed",
            idempotency_key="k1",
        )
    )

    world.service.record(_event())

    assert [run.execution_name for run in world.runs.of_journey("ana", "welcome")] == [old]
    assert (
        execution_arn(f"{PREFIX}welcome", world.name("welcome", "ana", "k1")) not in world.executions.statuses
    )


def test_separators_inside_values_cannot_make_two_events_collide() -> None:
    assert _name("j", "a|b", "c") != _name("j", "a", "b|c")


def test_a_long_journey_id_is_cut_so_the_name_fits_80_characters() -> None:
    long_id = "a" * 64

    name = _name(long_id, "ana", "k1")

    assert len(name) == 80
    assert name != _name("a" * 63 + "b", "ana", "k1")


# Inventory ----------------------------------------------------------------------------------


def test_the_inventory_lists_every_journey_with_owner_trigger_steps_and_review() -> None:
    listing = Inventory(CATALOG, FixedClock(T0)).list()

    assert [j.id for j in listing.items] == ["order-thanks", "welcome", "welcome-tips"]
    welcome = listing.items[1]
    assert welcome.owner == "growth@example.com"
    assert welcome.trigger == {"event": "contact.confirmed"}
    assert welcome.exit_on == ["contact.left"]
    assert welcome.channels == ["email"]
    assert welcome.templates == ["hello"]
    assert [(s.id, s.kind, s.next) for s in welcome.steps] == [("hello", "send", ["end"])]


@pytest.mark.parametrize(
    ("today", "overdue"),
    [(date(2026, 12, 31), False), (date(2027, 1, 1), False), (date(2027, 1, 2), True)],
)
def test_a_journey_past_its_review_date_is_flagged(today: date, overdue: bool) -> None:
    clock = FixedClock(datetime(today.year, today.month, today.day, 9, tzinfo=UTC))

    info = Inventory(CATALOG, clock).get("welcome")

    assert info.review_overdue is overdue


def test_the_inventory_shows_every_destination_of_a_branch() -> None:
    journey = _journey(
        "routes",
        "x",
        steps=[
            {"id": "hello", "send": {"template": "hello", "channels": ["sms", "email"]}},
            {
                "id": "route",
                "branch": {
                    "cases": [{"when": {"delivered": "hello"}, "next": "end"}],
                    "default": "again",
                },
            },
            {"id": "again", "send": {"template": "hello", "channels": ["email"]}, "next": "end"},
        ],
    )
    catalog = Catalog(root=Path("j"), journeys={"routes": journey})

    info = Inventory(catalog, FixedClock(T0)).get("routes")

    assert [(s.id, s.next) for s in info.steps] == [
        ("hello", ["route"]),
        ("route", ["end", "again"]),
        ("again", ["end"]),
    ]
    assert info.channels == ["sms", "email"]


def test_an_unknown_journey_is_not_found() -> None:
    with pytest.raises(JourneyNotFound):
        Inventory(CATALOG, FixedClock(T0)).get("nope")
