"""Journey executions in Step Functions behind a small interface: start, look up, stop.

`StepFunctionsExecutions` is the AWS one (the client from `baton.aws`); `InMemoryExecutions`
serves unit tests. Starting is idempotent by name (R-REL-2): a name already used answers with
the existing execution's ARN instead of starting another.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol

from botocore.exceptions import ClientError

from baton import aws
from baton.aws import error_code
from baton.triggers.exceptions import JourneyNotDeployed
from baton.triggers.models import RunStatus


class StepFunctionsClient(Protocol):
    """The calls Baton makes (boto3 has no type stubs for Step Functions here)."""

    def start_execution(self, **kwargs: Any) -> dict[str, Any]: ...
    def describe_execution(self, **kwargs: Any) -> dict[str, Any]: ...
    def stop_execution(self, **kwargs: Any) -> dict[str, Any]: ...


def execution_arn(state_machine_arn: str, name: str) -> str:
    """`arn:...:stateMachine:<machine>` + name -> `arn:...:execution:<machine>:<name>`."""
    head, marker, machine = state_machine_arn.rpartition(":stateMachine:")
    if not marker:
        raise ValueError(f"{state_machine_arn!r} is not a state machine ARN")
    return f"{head}:execution:{machine}:{name}"


def state_machine_of(execution_arn_: str) -> str:
    """`arn:...:execution:<machine>:<name>` -> `arn:...:stateMachine:<machine>`."""
    head, marker, rest = execution_arn_.rpartition(":execution:")
    machine, separator, _ = rest.partition(":")
    if not marker or not separator:
        raise ValueError(f"{execution_arn_!r} is not an execution ARN")
    return f"{head}:stateMachine:{machine}"


class Executions(ABC):
    @abstractmethod
    def start(self, state_machine_arn: str, name: str, input_json: str) -> str:
        """Start an execution named `name`, or find the one already using that name; its ARN."""

    @abstractmethod
    def status(self, execution_arn: str) -> RunStatus | None:
        """The execution's status; None when it does not exist."""

    @abstractmethod
    def stop(self, execution_arn: str, *, error: str, cause: str) -> None:
        """Stop a running execution (nothing happens if it has already ended)."""


class StepFunctionsExecutions(Executions):
    def __init__(self, client: StepFunctionsClient | None = None) -> None:
        self._client: StepFunctionsClient = client or aws.client("stepfunctions")

    def start(self, state_machine_arn: str, name: str, input_json: str) -> str:
        try:
            response = self._client.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=input_json
            )
        except ClientError as exc:
            code = error_code(exc)
            if code == "ExecutionAlreadyExists":
                # Started before (this key, or a retry of this call): the name is the same run.
                return execution_arn(state_machine_arn, name)
            if code == "StateMachineDoesNotExist":
                journey = state_machine_arn.rpartition(":")[2]
                raise JourneyNotDeployed(journey, state_machine_arn) from exc
            raise
        arn: str = response["executionArn"]
        return arn

    def status(self, execution_arn: str) -> RunStatus | None:
        try:
            response = self._client.describe_execution(executionArn=execution_arn)
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise
        return RunStatus(response["status"])

    def stop(self, execution_arn: str, *, error: str, cause: str) -> None:
        try:
            self._client.stop_execution(executionArn=execution_arn, error=error, cause=cause)
        except ClientError as exc:
            if error_code(exc) != "ExecutionDoesNotExist":
                raise


class InMemoryExecutions(Executions):
    """Executions that never run: started ones stay RUNNING until stopped (unit tests)."""

    def __init__(self) -> None:
        self.statuses: dict[str, RunStatus] = {}
        self.inputs: dict[str, str] = {}
        self.stopped: list[tuple[str, str, str]] = []

    def start(self, state_machine_arn: str, name: str, input_json: str) -> str:
        arn = execution_arn(state_machine_arn, name)
        if arn not in self.statuses:
            self.statuses[arn] = RunStatus.RUNNING
            self.inputs[arn] = input_json
        return arn

    def status(self, execution_arn: str) -> RunStatus | None:
        return self.statuses.get(execution_arn)

    def stop(self, execution_arn: str, *, error: str, cause: str) -> None:
        if self.statuses.get(execution_arn) is RunStatus.RUNNING:
            self.statuses[execution_arn] = RunStatus.ABORTED
            self.stopped.append((execution_arn, error, cause))
