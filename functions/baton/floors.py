"""The rulebook's floors for what an operator configures: stricter is welcome, looser never.

Quiet hours, calling windows, holiday calendars, frequency caps, link lifetimes, SMS
keyword lists and SMS throughput come with defaults that meet ../shared/RULEBOOK.md. A
deployment may narrow a window, add a holiday, lower a cap, keep links longer, add keywords or
pace an identity slower; a value that would let Baton send where the rules forbid (a Sunday
call to Brazil, a holiday list without the national holidays, a link that dies before 60 days,
a STOP list without STOP, a 10DLC number paced like a short code) is refused with the setting's
key and the rule it would break. The same check runs at synth, in
`baton validate` and at every cold start, so no path deploys or runs a looser rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from baton.delivery import defaults
from baton.delivery.gate import FrequencyCap
from baton.delivery.throughput import faster_than_the_rulebook, parse_identity
from baton.delivery.timing import WEEKDAYS, DailyWindow, WeeklyWindow
from baton.settings import Settings
from baton.sms.keywords import keyword_form, keyword_lists

# R-CASL-3 keeps an unsubscribe working for 60 days (R-CANSPAM-1: 30): the longer one wins.
MIN_LINK_DAYS = 60

# Which rule each keyword list carries (a list may grow, never lose one of these words).
_KEYWORD_RULES = {
    "opt_out": "R-CTIA-1",
    "help": "R-CTIA-2",
    "opt_in": "R-CTIA-4",
    "confirm": "R-CTIA-3",
    "revocation_phrases": "R-TCPA-3",
}
_KEYWORD_MEANINGS = {
    "opt_out": "an opt-out",
    "help": "a help",
    "opt_in": "an opt-in",
    "confirm": "a confirmation",
}


@dataclass(frozen=True, slots=True)
class Looser:
    """One configured value that is looser than the rulebook (or not a value at all)."""

    field: str  # the Settings field, snake_case (`calling_holidays`)
    sub_keys: tuple[str, ...]  # inside it (`("BR",)`), empty for the field itself
    rule: str  # the rule id, or "Baton's default" where the rulebook sets no figure
    message: str

    def key(self, prefix: str = "", *, camel: bool = True) -> str:
        """The setting as the operator wrote it: `delivery.callingHolidays.BR` in cdk.json."""
        name = _camel(self.field) if camel else self.field
        return ".".join(part for part in (prefix, name, *self.sub_keys) if part)

    def describe(self, prefix: str = "", *, camel: bool = True) -> str:
        return f"{self.key(prefix, camel=camel)}: {self.message} ({self.rule})"


def looser_settings(settings: Settings) -> list[Looser]:
    """Every configured rule that is looser than the rulebook's floor, in a stable order."""
    checks: tuple[Callable[[Settings], Iterable[Looser]], ...] = (
        _quiet_hours,
        _calling_windows,
        _calling_holidays,
        _frequency_caps,
        _link_lifetime,
        _keywords,
        _throughput,
    )
    return [looser for check in checks for looser in check(settings)]


def require_floors(settings: Settings) -> None:
    """ValueError naming every looser setting (as `BATON_*` would set it): for the cold start."""
    found = looser_settings(settings)
    if found:
        raise ValueError(
            "settings looser than the rulebook: " + "; ".join(f.describe(camel=False) for f in found)
        )


# Quiet hours -------------------------------------------------------------------------------


def _quiet_hours(settings: Settings) -> Iterator[Looser]:
    legal = DailyWindow.parse(defaults.QUIET_HOURS)
    configured: list[tuple[str, tuple[str, ...], str]] = [("quiet_hours", (), settings.quiet_hours)]
    configured += [
        ("quiet_hours_by_country", (country,), text)
        for country, text in settings.quiet_hours_by_country.items()
    ]
    for name, sub_keys, text in configured:
        try:
            window = DailyWindow.parse(text)
        except ValueError as exc:
            yield Looser(name, sub_keys, "R-TCPA-2", str(exc))
            continue
        if not window.within(legal):
            yield Looser(name, sub_keys, "R-TCPA-2", f"{window} opens outside {legal}, local time")
    by_place = {place.upper(): text for place, text in settings.quiet_hours_by_country.items()}
    for region, floor_text in defaults.QUIET_HOURS_BY_REGION.items():
        floor = DailyWindow.parse(floor_text)
        country = region.split("-", 1)[0]
        text = by_place.get(region) or by_place.get(country) or settings.quiet_hours
        try:
            effective = DailyWindow.parse(text)
        except ValueError:
            continue  # reported above
        if not effective.within(floor):
            yield Looser(
                "quiet_hours_by_country",
                (region,),
                "R-TCPA-2",
                f"{region} would get {effective}; its own law allows only {floor}, local time",
            )


# Calling windows and holidays ------------------------------------------------------------


def _by_country(values: Mapping[str, object]) -> dict[str, str]:
    """Country codes as written, keyed upper case (the gate reads them upper case)."""
    return {country.upper(): country for country in values}


def _calling_windows(settings: Settings) -> Iterator[Looser]:
    written = _by_country(settings.calling_windows)
    for country, spec in settings.calling_windows.items():
        try:
            WeeklyWindow.parse(spec)
        except ValueError as exc:
            yield Looser("calling_windows", (country,), "R-BR-1", str(exc))
    for country, legal_spec in defaults.CALLING_WINDOWS.items():
        if country not in written:
            yield Looser(
                "calling_windows",
                (country,),
                "R-BR-1",
                f"leaves out {country}'s calling window ({_spec_text(legal_spec)}); narrow it instead",
            )
            continue
        key = written[country]
        try:
            configured = WeeklyWindow.parse(settings.calling_windows[key])
        except ValueError:
            continue  # reported above
        legal = WeeklyWindow.parse(legal_spec)
        wider = [
            day
            for day, window, allowed in zip(WEEKDAYS, configured.days, legal.days, strict=True)
            if window is not None and (allowed is None or not window.within(allowed))
        ]
        if wider:
            yield Looser(
                "calling_windows",
                (key,),
                "R-BR-1",
                f"opens outside the allowed hours on {', '.join(wider)} (allowed: {_spec_text(legal_spec)},"
                " local time; other days closed)",
            )


def _spec_text(spec: Mapping[str, str]) -> str:
    return ", ".join(f"{days} {window}" for days, window in spec.items())


def _calling_holidays(settings: Settings) -> Iterator[Looser]:
    written = _by_country(settings.calling_holidays)
    for country, holidays in settings.calling_holidays.items():
        try:
            WeeklyWindow.parse({}, holidays)
        except ValueError as exc:
            yield Looser("calling_holidays", (country,), "R-BR-1", str(exc))
    for country, legal in defaults.CALLING_HOLIDAYS.items():
        key = written.get(country)
        configured = set(settings.calling_holidays[key]) if key is not None else set()
        missing = [day for day in legal if day not in configured]
        if missing:
            yield Looser(
                "calling_holidays",
                (key or country,),
                "R-BR-1",
                f"leaves out national holidays {', '.join(missing)}; add days, do not remove them",
            )


# Caps ----------------------------------------------------------------------------------------


def _frequency_caps(settings: Settings) -> Iterator[Looser]:
    caps: list[FrequencyCap] = []
    for index, spec in enumerate(settings.frequency_caps):
        try:
            caps.append(FrequencyCap.parse(spec))
        except (KeyError, ValueError) as exc:
            yield Looser("frequency_caps", (str(index),), "Baton's default", f"not a cap: {exc}")
    for spec in defaults.FREQUENCY_CAPS:
        floor = FrequencyCap.parse(spec)
        if not any(_as_strict(cap, floor) for cap in caps):
            # The rulebook sets no figure; Baton's default is what its texts state (R-CTIA-2/3
            # name the frequency), so a deployment may lower it, never raise or drop it.
            yield Looser(
                "frequency_caps",
                (),
                "Baton's default",
                f"no cap as strict as {floor.limit} {floor.purpose} messages per {floor.period.days} days"
                f" on {floor.channel or 'all channels'}",
            )


def _as_strict(cap: FrequencyCap, floor: FrequencyCap) -> bool:
    """True when `cap` alone allows no more messages than `floor` wherever `floor` applies."""
    covers = cap.channel is None or cap.channel == floor.channel
    return cap.purpose == floor.purpose and covers and cap.limit <= floor.limit and cap.period >= floor.period


# Links ---------------------------------------------------------------------------------------


def _link_lifetime(settings: Settings) -> Iterator[Looser]:
    if settings.token_ttl_days < MIN_LINK_DAYS:
        yield Looser(
            "token_ttl_days",
            (),
            "R-CASL-3",
            f"links would stop working after {settings.token_ttl_days} day(s); an unsubscribe link must"
            f" work for at least {MIN_LINK_DAYS} (R-CANSPAM-1 asks 30)",
        )


# Throughput ----------------------------------------------------------------------------------


def _throughput(settings: Settings) -> Iterator[Looser]:
    """R-EUM-1: an identity's configured type and rate may only make it slower."""
    for identity, entry in settings.origination_identities.items():
        try:
            parsed = parse_identity(entry)
        except ValueError as exc:
            yield Looser("origination_identities", (identity,), "R-EUM-1", str(exc))
            continue
        why = faster_than_the_rulebook(identity, parsed)
        if why is not None:
            yield Looser("origination_identities", (identity,), "R-EUM-1", why)


# Keywords ------------------------------------------------------------------------------------


def _keywords(settings: Settings) -> Iterator[Looser]:
    """Configured words extend the lists, so none of the rulebook's can be lost; a word must
    not also mean something else: "STOP" as a confirmation would turn an opt-out into consent."""
    try:
        lists = keyword_lists(settings.sms_keywords)
    except ValueError as exc:
        yield Looser("sms_keywords", (), "R-CTIA-1", str(exc))
        return
    owner: dict[str, str] = {}
    for name in _KEYWORD_RULES:
        if name == "revocation_phrases":
            continue  # phrases are looked for inside longer texts, not whole messages
        for word in sorted(getattr(lists, name)):
            form = keyword_form(word)
            first = owner.setdefault(form, name)
            if first != name:
                yield Looser(
                    "sms_keywords",
                    (_camel(name),),
                    _KEYWORD_RULES[first],
                    f"{word!r} is already {_KEYWORD_MEANINGS[first]} keyword",
                )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
