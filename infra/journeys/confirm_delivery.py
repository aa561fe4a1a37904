"""`send` with `confirm_delivery: D`: send on one channel, wait for its receipt,
fail over to the next channel when it fails or none comes in time.

States per step `<id>`, per channel `<ch>` in the step's order (JSONPath; every task is the
JourneyStepFunction, results at `$.steps.<id>`):
- Task `Send <id> by <ch>` (action `send_channel`, `"channel": <ch>`) -> Choice `<id> by <ch>
  sent?` on `$.steps.<id>.outcome`: `sent` -> the receipt wait (a webhook: the next step);
  `held` -> (a turn counted, R-REL-1, compiler.py) Wait `Hold <id> by <ch>` (until
  `$.steps.<id>.until`) -> the task again;
  `refused` / `failed` -> the next channel; `skipped` (the contact is gone) -> `<id> skipped`.
- Task `Await receipt <id> by <ch>` (`lambda:invoke.waitForTaskToken`, action `await_receipt`,
  TimeoutSeconds = D, R-REL-3): the receipt's SendTaskSuccess `{"outcome": "sent", "channel",
  "delivered", ...}` lands at `$.steps.<id>` -> Choice `<id> by <ch> delivered?`: true -> the
  next step; false -> the next channel. Catch `States.Timeout` (ResultPath
  `$.steps.<id>.timed_out`) -> the next channel (whose task records the missing receipt).
- After the last channel: Task `Not delivered <id>` (action `send_channel`, no channel: records
  `journey.ended`) -> Choice `<id> outcome`: `skipped` -> Succeed `<id> skipped`, `failed` ->
  Fail `<id> failed` (as the plain send).
Every task retries like every task and catches everything else into `Record failure`.

Transitions per confirmed delivery: 4 (send task, its choice, receipt task, its choice). Per
channel that does not confirm: 4 when its receipt says failed, 3 when none comes in time (the
timeout goes straight to the next channel's task), 2 when the gate refuses it (task, choice);
after the last channel, 3 more (`Not delivered`, its choice, Succeed/Fail).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aws_cdk import aws_stepfunctions as sfn

from baton.consent.vocabulary import Channel
from baton.journeys.durations import parse_duration
from baton.journeys.models import Step

if TYPE_CHECKING:
    # compiler.py registers this builder (STEP_BUILDERS), so it is imported at run time inside.
    from infra.journeys.compiler import BuiltStep, JourneyBuild, Targets

SEND_CHANNEL: Final = "send_channel"
AWAIT_RECEIPT: Final = "await_receipt"
TIMEOUT_ERROR: Final = "States.Timeout"
REFUSED: Final = "refused"  # send_channel: the gate refused this channel
TIMED_OUT_FIELD: Final = "timed_out"  # the runner reads the timeout error there (send_channel.TIMED_OUT)
# Channels whose provider sends receipts (baton.runner.send_channel.RECEIPT_CHANNELS).
RECEIPT_CHANNELS: Final = frozenset({Channel.SMS, Channel.VOICE, Channel.WHATSAPP, Channel.EMAIL})


def _send_task(build: JourneyBuild, state_name: str, step: Step, channel: str | None) -> sfn.TaskStateBase:
    return build.send_task(state_name, SEND_CHANNEL, step, extra={"channel": channel} if channel else None)


def build_confirm_delivery(build: JourneyBuild, index: int, step: Step) -> BuiltStep:
    from infra.journeys.compiler import FAILED, HELD, SENT, SKIPPED, BuiltStep, _unexpected, steps_path

    assert step.send is not None
    assert step.send.confirm_delivery is not None
    seconds = int(parse_duration(step.send.confirm_delivery).total_seconds())
    outcome_path = steps_path(step.id, "outcome")

    # After the last channel: the step ends as the plain send does.
    not_delivered = _send_task(build, f"Not delivered {step.id}", step, None)
    ended = sfn.Choice(build.scope, build.name(f"{step.id} outcome"))
    not_delivered.next(ended)
    skipped = sfn.Succeed(
        build.scope,
        build.name(f"{step.id} skipped"),
        comment="No channel was allowed (or the contact is gone); the reason is on the timeline.",
    )
    ended.when(sfn.Condition.string_equals(outcome_path, SKIPPED), skipped)
    ended.when(
        sfn.Condition.string_equals(outcome_path, FAILED),
        sfn.Fail(
            build.scope,
            build.name(f"{step.id} failed"),
            error="Baton.SendFailed",
            cause=f"No channel of step {step.id} confirmed delivery; the attempts are on the timeline.",
        ),
    )

    unexpected = _unexpected(build, step)
    ended.otherwise(unexpected)

    # Built last channel first, so each channel knows where its failover goes.
    to_next_step: list[tuple[sfn.Choice, sfn.Condition]] = []  # wired in connect
    failover: sfn.State = not_delivered
    for channel in reversed(step.send.channels):
        label = f"{step.id} by {channel}"
        send = _send_task(build, f"Send {label}", step, str(channel))
        sent = sfn.Choice(build.scope, build.name(f"{label} sent?"))
        hold = sfn.Wait(
            build.scope,
            build.name(f"Hold {label}"),
            time=sfn.WaitTime.timestamp_path(steps_path(step.id, "until")),
        )
        send.next(sent)
        hold.next(send)
        # Held: a turn (R-REL-1), counted on the way to the hold.
        build.turn(
            f"Hold {label}", step, hold, choice=sent, when=sfn.Condition.string_equals(outcome_path, HELD)
        )
        # The contact was erased while the journey ran: nothing to send, nothing to record.
        sent.when(sfn.Condition.string_equals(outcome_path, SKIPPED), skipped)
        sent.when(
            sfn.Condition.or_(
                sfn.Condition.string_equals(outcome_path, REFUSED),
                sfn.Condition.string_equals(outcome_path, FAILED),
            ),
            failover,
        )
        sent.otherwise(unexpected)
        if channel in RECEIPT_CHANNELS:
            receipt = _receipt_task(build, f"Await receipt {label}", step, str(channel), seconds)
            # Catchers are tried in order: no receipt in time fails over; anything else fails the run.
            receipt.add_catch(
                failover, errors=[TIMEOUT_ERROR], result_path=steps_path(step.id, TIMED_OUT_FIELD)
            )
            build.catch(receipt)
            sent.when(sfn.Condition.string_equals(outcome_path, SENT), receipt)
            delivered = sfn.Choice(build.scope, build.name(f"{label} delivered?"))
            receipt.next(delivered)
            delivered.otherwise(failover)
            to_next_step.append(
                (delivered, sfn.Condition.boolean_equals(steps_path(step.id, "delivered"), True))
            )
        else:
            to_next_step.append((sent, sfn.Condition.string_equals(outcome_path, SENT)))
        failover = send

    def connect(targets: Targets) -> None:
        after = targets.of(build.journey.next_of(index))
        for choice, condition in to_next_step:
            choice.when(condition, after)

    return BuiltStep(build.count_pass(step, failover), connect)


def _receipt_task(
    build: JourneyBuild, state_name: str, step: Step, channel: str, seconds: int
) -> sfn.TaskStateBase:
    assert step.send is not None
    comment = f"wait for the {channel} delivery receipt, at most {step.send.confirm_delivery}"
    return build.callback(
        state_name, AWAIT_RECEIPT, step, timeout_seconds=seconds, comment=comment, extra={"channel": channel}
    )
