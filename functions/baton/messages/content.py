"""Rendered message content: plain values, ready for a channel adapter."""

from __future__ import annotations

from dataclasses import dataclass

from baton.sms.segments import SegmentCount, count_segments


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    html: str
    text: str


@dataclass(frozen=True, slots=True)
class SmsContent:
    text: str

    @property
    def segments(self) -> SegmentCount:
        """Encoding and billed parts (R-SMS-1)."""
        return count_segments(self.text)
