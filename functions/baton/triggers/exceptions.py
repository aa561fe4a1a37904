"""Errors of the triggers package."""

from __future__ import annotations


class TriggerError(Exception):
    """Base of every triggers error."""


class JourneysNotConfigured(TriggerError):
    """BATON_STATE_MACHINE_ARN_PREFIX is unset: the function cannot name the state machines."""

    def __init__(self) -> None:
        super().__init__("BATON_STATE_MACHINE_ARN_PREFIX is not set: no journey can be started.")


class JourneyNotDeployed(TriggerError):
    """The catalog names a journey whose state machine does not exist (catalog and stack differ)."""

    def __init__(self, journey_id: str, state_machine_arn: str) -> None:
        super().__init__(
            f"Journey {journey_id!r} has no state machine {state_machine_arn}: deploy the stack."
        )
        self.journey_id = journey_id


class JourneyNotFound(TriggerError):
    """No journey of the catalog has this id (the API answers 404)."""

    def __init__(self, journey_id: str) -> None:
        super().__init__(f"Journey {journey_id!r} not found.")
        self.journey_id = journey_id


class JourneyClosed(TriggerError):
    """A marketing journey overdue for review past its grace period admits no new contact
    (`baton.journeys.review`): a campaign or schedule over it starts nothing (the API: 409)."""

    def __init__(self, journey_id: str, message: str) -> None:
        super().__init__(message)
        self.journey_id = journey_id
