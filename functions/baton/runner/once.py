"""At most one delivery per (execution, step, channel) (R-REL-6), with Powertools idempotency on
the idempotency table: a retried or redriven task finds the stored result of a send that went
out and returns it instead of sending again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton.runner.exceptions import ProviderUnavailable

# Longer than a redrive can come back (Standard executions are redriven within 14 days).
RECORD_DAYS = 30
# Stable across deploys and function renames, so a send recorded before a deploy still counts.
KEY_PREFIX = "baton.journey-send"


def _run(*, attempt: Mapping[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return work()


class PowertoolsOnce:
    def __init__(self, persistence: BasePersistenceLayer) -> None:
        self._config = IdempotencyConfig(expires_after_seconds=RECORD_DAYS * 24 * 3600)
        self._once = idempotent_function(
            data_keyword_argument="attempt",
            persistence_store=persistence,
            config=self._config,
            key_prefix=KEY_PREFIX,
        )(_run)

    def register(self, context: LambdaContext | None) -> None:
        """A send in progress is taken as stuck once this invocation's time is up."""
        if context is not None:
            self._config.register_lambda_context(context)

    def run(self, key: Mapping[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._once(attempt=dict(key), work=work)
        except IdempotencyAlreadyInProgressError as exc:
            # Another invocation is sending this very message: ask Step Functions to come back.
            raise ProviderUnavailable("the same send is in progress in another invocation") from exc
        except IdempotencyPersistenceLayerError as exc:
            raise ProviderUnavailable("the idempotency table could not be read or written") from exc
        return result


class InMemoryOnce:
    """The same contract without a table: for unit tests and previews."""

    def __init__(self) -> None:
        self.completed: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}

    def run(self, key: Mapping[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        token = tuple(sorted(key.items()))
        if token not in self.completed:
            self.completed[token] = work()
        return self.completed[token]
