"""Default send rules as plain data: read by `Settings` (so cdk.json can override them) and
by the gate's default policy. An operator may make them stricter, never looser."""

from __future__ import annotations

# R-TCPA-2: marketing texts and calls only from 08:00 to before 21:00, recipient's local time.
QUIET_HOURS = "08:00-21:00"
# R-TCPA-2's stricter states, keyed `US-<state>` (read from the number's area code): Florida's
# telephone solicitation law ends at 20:00. A deployment adds others; it cannot widen these.
QUIET_HOURS_BY_REGION: dict[str, str] = {"US-FL": "08:00-20:00"}

# R-BR-1: marketing calls to Brazil Monday-Friday 09:00-21:00, Saturday 10:00-16:00, never on
# Sundays or national holidays. The fixed-date national holidays recur every year (`MM-DD`);
# Good Friday (Paixão de Cristo) moves with Easter (`easter-2`). Carnival and Corpus Christi
# are optional days off, not national holidays: a deployment adds them (`easter-48`,
# `easter-47`, `easter+60`), or one year's date as `YYYY-MM-DD`.
CALLING_WINDOWS: dict[str, dict[str, str]] = {"BR": {"mon-fri": "09:00-21:00", "sat": "10:00-16:00"}}
CALLING_HOLIDAYS: dict[str, list[str]] = {
    "BR": ["01-01", "easter-2", "04-21", "05-01", "09-07", "10-12", "11-02", "11-15", "11-20", "12-25"]
}

# At most 3 marketing messages per contact in any rolling 7 days, across channels.
FREQUENCY_CAPS: list[dict[str, str | int | None]] = [
    {"purpose": "marketing", "channel": None, "limit": 3, "days": 7}
]
