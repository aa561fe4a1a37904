"""A built-in email to staff: sent through the email adapter with its built-in's tag, and every
attempt counted under the built-in's id as sent, failed or unknown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from baton.clock import FixedClock
from baton.delivery.exceptions import DeliveryError, ProviderAmbiguous, ProviderRejected
from baton.delivery.message import Purpose
from baton.messages.builtins import BuiltIn
from baton.messages.staff import StaffMail
from tests.staff_fakes import Counter, Email

TODAY = datetime(2027, 3, 8, 8, tzinfo=UTC)


def test_a_staff_email_carries_its_built_ins_tag_and_counts_one_send() -> None:
    email, counter = Email(), Counter()
    mail = StaffMail(email, BuiltIn.REVIEW_DIGEST, counter=counter, clock=FixedClock(TODAY))

    provider_id = mail.send(
        to="ops@example.com", subject="Hi", text="Body", tags={"builtin": "other", "x": "1"}
    )

    (message,) = email.sent
    assert provider_id == "ses-1"
    assert (message.to, message.purpose, message.subject, message.text) == (
        "ops@example.com",
        Purpose.TRANSACTIONAL,
        "Hi",
        "Body",
    )
    assert dict(message.tags) == {"x": "1", "builtin": "review-digest"}  # its own id wins
    assert counter.counts == [("builtin/review-digest", "sent", "email", TODAY.date())]


@pytest.mark.parametrize(
    ("failure", "measure"),
    [
        (ProviderRejected("ses", "MessageRejected"), "failed"),
        (ProviderAmbiguous("ses", "ReadTimeout"), "unknown"),
    ],
)
def test_a_staff_email_that_did_not_go_out_is_counted_and_raised(
    failure: DeliveryError, measure: str
) -> None:
    counter = Counter()
    email = Email(lambda _: failure)
    mail = StaffMail(email, BuiltIn.HANDOFF_NOTICE, counter=counter, clock=FixedClock(TODAY))

    with pytest.raises(type(failure)):
        mail.send(to="agents@example.com", subject="Task", text="Body")

    assert counter.counts == [("builtin/handoff-notice", measure, "email", TODAY.date())]
