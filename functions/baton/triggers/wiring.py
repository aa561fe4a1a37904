"""Builds the triggers' services from the composition root's `Services` (once per cold start)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from baton import aws, secrets
from baton.bootstrap import Services, email_adapter
from baton.consent.vocabulary import Channel
from baton.data.once import DynamoOnceTable, Once, RemainingTime
from baton.figures.repository import DynamoFiguresRepository
from baton.inventory import digest
from baton.inventory.digest import ReviewDigest
from baton.inventory.service import InventoryService
from baton.journeys.catalog import Catalog, load_catalog
from baton.journeys.review import ReviewPolicy
from baton.messages.builtins import BuiltIn
from baton.messages.staff import StaffMail
from baton.suppression.models import SuppressionReason
from baton.triggers.executions import StepFunctionsExecutions
from baton.triggers.goals import GOAL_PREFIX
from baton.triggers.inventory import Inventory
from baton.triggers.runs import DynamoRunRepository
from baton.triggers.service import IDEMPOTENCY_KEEP, ONCE_PREFIX, EventService
from baton.triggers.subjects import LIFETIME, DynamoSubjectRepository
from baton.waits.wiring import wait_service


@lru_cache(maxsize=4)
def catalog(
    journeys_dir: str,
    sms_max_parts: int,
    locales: tuple[str, ...] = ("en",),
    approve_transactional: bool = False,
) -> Catalog:
    """The catalog the asset ships, read once per cold start and checked as synth checked it.
    A relative folder is the task root's (Lambda's working directory). Approval is not a reason
    to refuse the whole catalog here: the send gate refuses the sends of a template whose
    content is not the content approved, and every other journey goes on."""
    return load_catalog(
        Path(journeys_dir),
        sms_max_parts=sms_max_parts,
        locales=locales,
        require_approval=False,
        approve_transactional=approve_transactional,
    )


def services_catalog(s: Services) -> Catalog:
    settings = s.settings
    return catalog(
        settings.journeys_dir,
        settings.sms_max_parts,
        tuple(settings.locales),
        settings.approvals_transactional,
    )


def event_service(s: Services, lambda_context: RemainingTime | None = None) -> EventService:
    once = Once(
        DynamoOnceTable(s.settings.idempotency_table, aws.client("dynamodb")),
        prefix=ONCE_PREFIX,
        keep=IDEMPOTENCY_KEEP,
        clock=s.clock,
        # Repeatable: a journey started again is refused by its execution name (R-REL-2).
        repeatable=True,
    )
    # Once per entry: kept as long as a run's subject, longer than any goal's `within` (a year).
    conversions = Once(
        DynamoOnceTable(s.settings.idempotency_table, aws.client("dynamodb")),
        prefix=GOAL_PREFIX,
        keep=LIFETIME,
        clock=s.clock,
    )
    # Bounded either way: by this invocation's time when there is one, else Lambda's ceiling.
    once.leases.register(lambda_context)
    conversions.leases.register(lambda_context)
    return EventService(
        catalog=services_catalog(s),
        contacts=s.contacts,
        timeline=s.timeline,
        runs=DynamoRunRepository(s.settings.runs_table),
        subjects=DynamoSubjectRepository(s.settings.subjects_table),
        executions=StepFunctionsExecutions(),
        clock=s.clock,
        state_machine_arn_prefix=s.settings.state_machine_arn_prefix,
        once=once,
        naming_key=lambda: secrets.execution_name_key(s.settings),
        waits=wait_service(s),
        conversions=conversions,
        review=ReviewPolicy.of(s.settings),
    )


def inventory(s: Services) -> Inventory:
    return Inventory(services_catalog(s), s.clock)


# An owner whose mail bounces or who complained reads nothing Baton sends them (R-SES-3).
_UNREACHABLE = frozenset({SuppressionReason.HARD_BOUNCE, SuppressionReason.COMPLAINT})


def inventory_service(s: Services) -> InventoryService:
    """Every automated message: the catalog's send steps and the built-in messages, with the
    figures the recorder writes and each owner's address checked against suppression."""

    def unreachable(owner: str) -> bool:
        entry = s.suppression.check(Channel.EMAIL, owner)
        return entry is not None and entry.reason in _UNREACHABLE

    return InventoryService(
        services_catalog(s),
        DynamoFiguresRepository(s.settings.figures_table),
        s.clock,
        s.settings.inventory,
        fallback_owner=s.settings.sender_email,
        owner_unreachable=unreachable,
        review=ReviewPolicy.of(s.settings),
    )


def review_digest(s: Services, lambda_context: RemainingTime | None = None) -> ReviewDigest:
    """The weekly digest to the inventory's owners: staff emails with one attempt each (the
    schedule's retry is the one retry layer, R-REL-4), once per owner and week on the ledger."""
    once = Once(
        DynamoOnceTable(s.settings.idempotency_table, aws.client("dynamodb")),
        prefix=digest.ONCE_PREFIX,
        keep=digest.KEEP,
        clock=s.clock,
    )
    once.leases.register(lambda_context)
    mail = StaffMail(
        email_adapter(s.settings, s.clock, aws.delivery_client, s.limits),
        BuiltIn.REVIEW_DIGEST,
        counter=s.figures,
        clock=s.clock,
    )
    return ReviewDigest(inventory_service(s), mail, once, s.clock)
