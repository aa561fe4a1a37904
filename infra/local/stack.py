"""`LocalStack`: the synthesized template deployed into moto in this process, its functions
run in-process, its API served on localhost. What `baton local` runs, and what tests start.

    stack = LocalStack()                      # synthesizes the CDK app (or pass template=...)
    base_url, token = stack.start(port=0)     # 0: any free port
    ...                                       # HTTP to base_url; stack.outbox, stack.invoke(...)
    stack.advance("1d")                       # virtual time: runs whatever fell due
    stack.stop()

Time is virtual (`clock.VirtualClock`): it stands still until advanced, and it is Baton's process
clock while the stack runs. State machines run on moto's interpreter (`stepfunctions`).
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from moto import mock_aws
from moto.core.config import DefaultConfig
from moto.core.models import MockAWS

from baton import logs
from baton.clock import Clock, SystemClock, as_utc, process_clock, use_clock
from baton.journeys.durations import parse_duration
from infra.local.clock import VirtualClock
from infra.local.deploy import REPO_JOURNEYS_DIR, Deployment, deploy
from infra.local.dynamodb import partition_queries
from infra.local.exceptions import LocalStackError
from infra.local.outbox import Outbox
from infra.local.routes import RouteTable
from infra.local.runtime import LambdaRuntime
from infra.local.scheduler import Scheduler
from infra.local.schedules import LocalSchedules
from infra.local.server import LocalApp, LocalHttpServer
from infra.local.ses_account import LocalSesAccount, answering_get_account
from infra.names import SMS_INBOUND_FUNCTION

if TYPE_CHECKING:
    from infra.local.stepfunctions import LocalStepFunctions

log = logging.getLogger(__name__)

REGION: Final = "us-east-1"
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 3000
# Baton's own number in local mode (555-01xx numbers are reserved for fiction).
LOCAL_SMS_NUMBER: Final = "+12065550100"
MOTO_CONFIG: Final[DefaultConfig] = {
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
}
# Fake credentials and no profile, endpoint or config file: nothing can reach a real account.
_FAKE_AWS_ENV: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_REMOVED_AWS_ENV: Final = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


@dataclass(frozen=True)
class StartupTimes:
    synth_s: float | None  # None when a template was given
    deploy_s: float  # moto started, resources created, server listening


def synthesize_template(outdir: Path | None = None) -> dict[str, Any]:
    """The stack's template from the CDK app, without bundling (the local runtime imports the
    source tree, so no asset is needed)."""
    from infra.synth import synthesize  # CDK and jsii take seconds to import: only when needed

    if outdir is not None:
        return synthesize(outdir, bundling=False)
    with tempfile.TemporaryDirectory(prefix="baton-cdk-out-") as scratch:
        return synthesize(Path(scratch), bundling=False)


class LocalStack:
    def __init__(
        self,
        template: Mapping[str, Any] | None = None,
        *,
        outdir: Path | None = None,
        host: str = DEFAULT_HOST,
        token: str | None = None,
        prefix: str = "baton",
        stack_name: str = "Baton",
        clock: VirtualClock | None = None,
        sms_number: str = LOCAL_SMS_NUMBER,
        sms_inbound_function: str = SMS_INBOUND_FUNCTION,
        journeys_dir: Path = REPO_JOURNEYS_DIR,
    ) -> None:
        self._template = template
        self._outdir = outdir
        self._host = host
        self.token = token or secrets.token_urlsafe(32)
        self._prefix = prefix
        self._stack_name = stack_name
        self.clock = clock or VirtualClock()
        self.scheduler = Scheduler(self.clock)
        self._sms_number = sms_number
        self._sms_inbound_function = sms_inbound_function
        self._journeys_dir = journeys_dir
        self._step_functions: LocalStepFunctions | None = None
        self._previous_clock: Clock | None = None
        self._mock: MockAWS | None = None
        # SES v2 GetAccount, which moto lacks; `ses_account` is what it answers (R-SES-1).
        self.ses_account = LocalSesAccount()
        # What the embedded AWS adds to moto while the stack runs (GetAccount, partition queries).
        self._aws_patches = ExitStack()
        self._saved_env: dict[str, str | None] = {}
        self._server: LocalHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._deployment: Deployment | None = None
        self._runtime: LambdaRuntime | None = None
        self._outbox: Outbox | None = None
        self.schedules: LocalSchedules | None = None  # the template's schedules
        self.base_url = ""
        self.times: StartupTimes | None = None

    # Life cycle ------------------------------------------------------------------------

    def start(self, port: int = 0) -> tuple[str, str]:
        """Deploy and serve in a background thread; returns (base URL, bearer token).
        Port 0 takes any free port (tests); `baton local` passes 3000."""
        if self._server is not None:
            raise LocalStackError("this local stack is already started")
        # The server's and the handlers' lines, and moto's, in this process: no personal data.
        logs.install()
        synth_s: float | None = None
        template = self._template
        if template is None:
            began = time.perf_counter()
            template = self._template = synthesize_template(self._outdir)
            synth_s = time.perf_counter() - began
        began = time.perf_counter()
        try:
            self._start_mock()
            self._server = LocalHttpServer(self._host, port)
            self.base_url = f"http://{self._host}:{self._server.port}"
            self._deployment = deploy(
                template,
                region=REGION,
                prefix=self._prefix,
                base_url=self.base_url,
                stack_name=self._stack_name,
                journeys_dir=self._journeys_dir,
            )
            self._outbox = Outbox(
                account_id=self._deployment.account_id,
                region=REGION,
                sms_sender=self._sms_number,
                now=self.clock.now,
            )
            self._runtime = LambdaRuntime(
                self._deployment.functions,
                region=REGION,
                after_invoke=self._outbox.collect,
                clock=self.clock,
            )
            self._previous_clock = process_clock()
            use_clock(self.clock)
            if self._deployment.state_machines:
                # Imported here: moto's ASL interpreter takes seconds to import, and a template
                # without state machines does not need it.
                from infra.local.stepfunctions import LocalStepFunctions

                self._step_functions = LocalStepFunctions(
                    self.scheduler,
                    self._runtime.invoke,
                    state_machine_arns=[m.arn for m in self._deployment.state_machines.values()],
                    functions={f.name: f.logical_id for f in self._deployment.functions.values()},
                )
                self._step_functions.attach()
            # EventBridge Scheduler's schedules fire as the virtual clock passes them.
            self.schedules = LocalSchedules.from_template(template, now=self.clock.now(), invoke=self.invoke)
            self._server.app = LocalApp(
                routes=RouteTable.from_template(template),
                deployment=self._deployment,
                runtime=self._runtime,
                outbox=self._outbox,
                clock=self.clock,
                scheduler=self.scheduler,
                token=self.token,
                port=lambda: self._server.port if self._server else 0,
                sms_number=self._sms_number,
                sms_inbound_function=self._sms_inbound_function,
                advance_to=self._advance_to,  # POST /_local/clock fires schedules too
            )
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="baton-local-http",
            daemon=True,
        )
        self._thread.start()
        self.times = StartupTimes(synth_s=synth_s, deploy_s=time.perf_counter() - began)
        log.info("local stack at %s (%s)", self.base_url, self.times)
        return self.base_url, self.token

    def stop(self) -> None:
        """Stop serving, delete what was deployed, stop moto and give the environment back."""
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=10)
            self._server.server_close()
        self._server = self._thread = None
        if self._step_functions is not None:
            self._step_functions.detach()
            self._step_functions = None
        if self._previous_clock is not None:
            if process_clock() is self.clock:
                previous = self._previous_clock
                use_clock(None if isinstance(previous, SystemClock) else previous)
            self._previous_clock = None
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        if self._deployment is not None:
            self._deployment.teardown()
            self._deployment = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._aws_patches.close()
        self._restore_env()

    def __enter__(self) -> LocalStack:
        if self._server is None:
            self.start(port=0)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the server thread ends (Ctrl-C interrupts the wait)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    # What tests and the demo reach for -------------------------------------------------

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            raise LocalStackError("the local stack is not started")
        return self._deployment

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            raise LocalStackError("the local stack is not started")
        return self._outbox

    @property
    def template(self) -> Mapping[str, Any]:
        if self._template is None:
            raise LocalStackError("the local stack has not synthesized yet")
        return self._template

    def invoke(self, function: str, event: Any) -> Any:
        """Run a function (logical id or construct id) with an event, as Lambda would; returns
        once the executions it started have settled."""
        if self._runtime is None:
            raise LocalStackError("the local stack is not started")
        try:
            return self._runtime.invoke(self.deployment.function(function).logical_id, event)
        finally:
            self.scheduler.settle()

    def settle(self) -> None:
        """Return when every execution is asleep on a future time or finished."""
        self.scheduler.settle()

    def advance(self, by: timedelta | str) -> datetime:
        """Move virtual time forward (`timedelta` or a DSL duration such as "1d") and run
        whatever fell due on the way; returns the new now."""
        delta = parse_duration(by) if isinstance(by, str) else by
        if delta < timedelta(0):
            raise ValueError(f"the clock only moves forward, not by {delta}")
        return self._advance_to(self.clock.now() + delta)

    def advance_to(self, moment: datetime) -> datetime:
        """Move virtual time to `moment` (not before now) and run whatever fell due."""
        if as_utc(moment) < self.clock.now():
            raise ValueError(f"{moment.isoformat()} is before the clock's now: time only moves on")
        return self._advance_to(moment)

    # Internals -------------------------------------------------------------------------

    def _advance_to(self, target: datetime) -> datetime:
        """Stop at each schedule time on the way (running what fell due before it)
        and fire it; then move on to `target` as the scheduler does."""
        if self.schedules is not None:
            self.schedules.fire_due(as_utc(target), before_each=self.scheduler.advance_to)
        return self.scheduler.advance_to(target)

    def _start_mock(self) -> None:
        for key in (*_FAKE_AWS_ENV, *_REMOVED_AWS_ENV):
            self._saved_env.setdefault(key, os.environ.get(key))
        for key in _REMOVED_AWS_ENV:
            os.environ.pop(key, None)
        os.environ.update(_FAKE_AWS_ENV)
        self._aws_patches.enter_context(answering_get_account(self.ses_account))  # before the mock
        # A query of a contact's partition costs that partition, not the table, as in DynamoDB.
        self._aws_patches.enter_context(partition_queries())
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
