"""Whom a test's execution is about, recorded as a trigger records it before the start."""

from __future__ import annotations

from pydantic import JsonValue

from baton.triggers.subjects import InMemorySubjectRepository, Subject


def subject_of(
    execution: str,
    contact_id: str,
    journey: str,
    event_type: str = "test",
    data: dict[str, JsonValue] | None = None,
) -> Subject:
    """`execution` is the ARN (`$$.Execution.Id`): its last part names the subject."""
    return Subject(
        execution_name=execution.rsplit(":", 1)[-1],
        contact_id=contact_id,
        journey=journey,
        event_type=event_type,
        data=data or {},
    )


def record_subject(subjects: InMemorySubjectRepository, subject: Subject) -> None:
    """Store (or, for a test that reuses one execution for several contacts, replace) it."""
    subjects.subjects[subject.execution_name] = subject
