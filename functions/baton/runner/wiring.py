"""Builds the journey runner from the composition root's `Services`, once per cold start."""

from __future__ import annotations

from collections.abc import Callable

from baton import aws
from baton.bootstrap import Services, metrics, services
from baton.data.once import DynamoOnceTable
from baton.feedback.wiring import feedback_service
from baton.handoffs.wiring import handoff_service
from baton.journeys.catalog import Catalog
from baton.runner.context import RunnerContext
from baton.runner.once import SendLedger
from baton.runner.service import JourneyRunner
from baton.subscriptions.links import Links
from baton.triggers.continuation import Continuations
from baton.triggers.executions import StepFunctionsExecutions
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.subjects import DynamoSubjectRepository
from baton.triggers.wiring import services_catalog
from baton.waits.wiring import wait_service

_built: tuple[Services, JourneyRunner, SendLedger] | None = None


def links_factory(s: Services, generation_of: Callable[[str], str | None]) -> Callable[[], Links]:
    """Signed links made at send time (the signing key is a secret read, on first use), bound to
    the contact's generation as `generation_of` reads it."""
    return lambda: Links(
        s.settings, s.signing_key(), s.clock.now(), generation_of, address_key=s.link_address_key()
    )


def build(s: Services) -> tuple[JourneyRunner, SendLedger]:
    settings = s.settings
    # The services' own dispatcher: one attempt per message (R-REL-4: Step Functions is the one
    # retry layer), the same gate, caps and lists as every other send.
    dispatcher = s.dispatcher
    once = SendLedger(DynamoOnceTable(settings.idempotency_table, aws.client("dynamodb")), s.clock)

    def catalog() -> Catalog:
        return services_catalog(s)

    subjects = DynamoSubjectRepository(settings.subjects_table)
    runs = DynamoRunRepository(settings.runs_table)
    context = RunnerContext(
        catalog=catalog,
        contacts=s.contacts,
        timeline=s.timeline,
        links=links_factory(s, s.contacts.generation),
        once=once,
        clock=s.clock,
        metrics=metrics,
        brand=settings.brand_name,
        postal_address=settings.postal_address,
        subjects=subjects,
        runs=runs,
    )
    # Event waits: the await_event and wait_timed_out tasks.
    # Hand-offs: the handoff and handoff_timeout tasks; SNS and SES without SDK
    # retries (R-REL-4: Step Functions retries the task).
    runner_ = JourneyRunner(
        context,
        dispatcher,
        waits=wait_service(s),
        handoffs=handoff_service(s, aws.delivery_client),
        feedback=feedback_service(s),  # the receipt waiters of steps that confirm delivery
        # Long runs go on in a new execution of their own state machine (R-REL-1).
        continuations=Continuations(
            subjects, runs, StepFunctionsExecutions(), s.timeline, s.clock, context.count
        ),
    )
    return runner_, once


def runner() -> tuple[JourneyRunner, SendLedger]:
    """The runner of the current `services()`; rebuilt when those are (after `bootstrap.reset`)."""
    global _built  # one per process, like `services()`
    current = services()
    if _built is None or _built[0] is not current:
        runner_, once = build(current)
        _built = (current, runner_, once)
    return _built[1], _built[2]
