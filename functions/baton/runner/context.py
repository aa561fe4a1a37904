"""What every journey task shares: the catalog, the contact and timeline services, the clock,
metrics, the subjects (whom each execution is about) and the runs table (to close a run when
its journey ends)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from baton.clock import Clock
from baton.runner.models import StepRequest
from baton.runner.once import SendLedger
from baton.runner.ports import CatalogView, ContactReader, LinkMaker, SubjectReader, Timeline
from baton.triggers.models import RunStatus
from baton.triggers.runs import RunRepository

logger = Logger(child=True)

METRIC_RUN_UNRECORDED = "RunStatusNotRecorded"


@dataclass(frozen=True)
class RunnerContext:
    catalog: Callable[[], CatalogView]  # loaded once per cold start, on first use
    contacts: ContactReader
    timeline: Timeline
    links: Callable[[], LinkMaker]
    once: SendLedger  # the send ledger and the step-level record (R-REL-6)
    clock: Clock
    metrics: Metrics
    brand: str
    postal_address: str
    subjects: SubjectReader
    runs: RunRepository | None = None
    # A send's step record (`SendLedger.steps`): a retried task answers from it without reading
    # the channel journals. The journals alone keep a pass to one channel (a channel that reached
    # the provider is the only one tried again), so a caller that rarely retries (a campaign
    # batch) leaves it out: two writes less per message.
    step_records: bool = True
    # Sends with no execution of their own (a campaign batch's: no subject is stored) record the
    # contact's generation in their ledger entry, as read here: a provider's later event about
    # the send is then known to be about this contact, not an erased one or a later one with
    # the same id. Executions' sends are known by their subject instead.
    generation_of: Callable[[str], str | None] | None = None

    def count(self, name: str) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)

    def set_variant(self, request: StepRequest, variant: str) -> None:
        """Keep the split's variant on the execution's run, where a conversion reads it (a
        continuation copies the run, variant and all). Bookkeeping, like `mark_run`."""
        if self.runs is None:
            return
        try:
            self.runs.set_variant(request.contact_id, request.journey, request.execution_name, variant)
        except Exception:
            logger.exception("Run variant not recorded", extra={"journey": request.journey})
            self.count(METRIC_RUN_UNRECORDED)

    def mark_run(self, request: StepRequest, status: RunStatus) -> None:
        """Close the execution's run in the runs table, unless something else closed it first
        (an exit_on event stops it as ABORTED)."""
        if self.runs is None:
            return
        try:
            for run in self.runs.of_journey(request.contact_id, request.journey):
                if request.execution_name == run.execution_name or request.execution == run.execution_arn:
                    if run.status == RunStatus.RUNNING:
                        ended = run.model_copy(update={"status": status, "ended_at": self.clock.now()})
                        self.runs.replace(ended)
                    return
        except Exception:
            # Bookkeeping only: the journey's own outcome stands. Log and count it.
            logger.exception("Run status not recorded", extra={"journey": request.journey})
            self.count(METRIC_RUN_UNRECORDED)
            return
        logger.info("No run recorded for this execution", extra={"journey": request.journey})
