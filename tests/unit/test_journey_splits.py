"""Goals, holdouts and splits in the journey DSL: what validates, what is refused (naming the file,
line and key), and how contacts are assigned."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from baton.journeys.catalog import load_catalog
from baton.journeys.graph import reachable
from baton.journeys.models import Variant
from baton.journeys.split import held_out, variant_of
from tests.unit.test_catalog_checks import NOTE, PROMO, issues_of, only, steps_text, where, write

PROMO_JOURNEY = """\
journey: promo-run
owner: growth@example.com
purpose: marketing
topic: offers
review_by: 2027-01-01
trigger: {event: lead.created}
"""

SPLIT_STEPS = """\
- id: subject
  split:
    variants:
      - {name: short, weight: 50, next: short-offer}
      - {name: long, weight: 50, next: long-offer}
- id: short-offer
  send: {template: promo, channels: [email]}
  next: end
- id: long-offer
  send: {template: promo, channels: [email]}
"""


def journey(*, head: str = "", steps: str = SPLIT_STEPS) -> dict[str, str]:
    return {"promo-run.yaml": PROMO_JOURNEY + head + "steps:\n" + steps_text(steps)}


def test_a_journey_with_a_goal_a_holdout_and_a_split_validates(tmp_path: Path) -> None:
    files = journey(head="goal: {event: order.placed, within: 7d}\nholdout: 2.5%\n")
    folder = write(tmp_path, {"templates/note.yaml": NOTE, "templates/promo.yaml": PROMO, **files})
    loaded = load_catalog(folder).journey("promo-run")
    assert loaded.goal is not None
    assert (loaded.goal.event, loaded.goal.within) == ("order.placed", "7d")
    assert loaded.holdout == "2.5%"
    (split,) = loaded.splits
    assert split.kind == "split"
    assert reachable(loaded) == {0, 1, 2}  # both variants' targets are reached


def test_a_holdout_outside_0_to_100_percent_is_refused_at_its_key(tmp_path: Path) -> None:
    for written in ("0%", "100%", "10", "12.25%", "-5%", "ten"):
        issue = only(issues_of(tmp_path, journey(head=f"holdout: {written}\n")))
        assert (Path(issue.file).name, issue.line, issue.key) == ("promo-run.yaml", 7, "holdout")
        assert "above 0 and below 100" in issue.message


def test_a_goal_needs_an_event_and_a_duration(tmp_path: Path) -> None:
    issue = only(issues_of(tmp_path, journey(head="goal: {event: order.placed, within: soon}\n")))
    assert (issue.line, issue.key) == (7, "goal.within")
    assert "not a duration" in issue.message
    issues = issues_of(tmp_path, journey(head="goal: {event: order.placed, in: 7d}\n"))
    unknown = next(issue for issue in issues if issue.key == "goal.in")
    assert "unknown key 'in'" in unknown.message
    assert "allowed: event, within" in unknown.message
    issue = only(issues_of(tmp_path, journey(head="goal: {within: 7d}\n")))
    assert (issue.key, issue.message) == ("goal.event", "required")


def test_a_split_needs_two_variants_with_names_of_their_own(tmp_path: Path) -> None:
    one = "- id: subject\n  split:\n    variants:\n      - {name: short, weight: 1, next: end}\n"
    issue = only(issues_of(tmp_path, journey(steps=one)))
    assert issue.key == "steps[0].split.variants"
    assert "at least 2" in issue.message
    twice = SPLIT_STEPS.replace("name: long", "name: short")
    issue = only(issues_of(tmp_path, journey(steps=twice)))
    assert (issue.line, issue.key) == (10, "steps[0].split.variants")
    assert "variant short is named twice" in issue.message
    reserved = SPLIT_STEPS.replace("name: long", "name: holdout")
    issue = only(issues_of(tmp_path, journey(steps=reserved)))
    assert issue.key == "steps[0].split.variants"
    assert "`holdout` is reserved" in issue.message
    bad_name = SPLIT_STEPS.replace("name: long", "name: Long")
    issue = only(issues_of(tmp_path, journey(steps=bad_name)))
    assert issue.key == "steps[0].split.variants[1].name"
    assert "is not an id" in issue.message


def test_weights_are_positive_whole_numbers(tmp_path: Path) -> None:
    for weight in ("0", "-1", "1.5", '"50"'):
        steps = SPLIT_STEPS.replace("weight: 50, next: long", f"weight: {weight}, next: long")
        issue = only(issues_of(tmp_path, journey(steps=steps)))
        assert (issue.line, issue.key) == (12, "steps[0].split.variants[1].weight"), weight


def test_a_variant_going_nowhere_is_refused_like_a_branch_target(tmp_path: Path) -> None:
    steps = SPLIT_STEPS.replace("next: long-offer}", "next: long-ofer}")
    issues = issues_of(tmp_path, journey(steps=steps))
    assert ("promo-run.yaml", 12, "steps[0].split.variants[1].next") in where(issues)
    nowhere = next(issue for issue in issues if issue.key == "steps[0].split.variants[1].next")
    assert "no step 'long-ofer'" in nowhere.message
    assert "did you mean 'long-offer'" in nowhere.message


def test_a_split_chooses_its_next_itself_and_has_no_unknown_keys(tmp_path: Path) -> None:
    with_next = SPLIT_STEPS.replace("  split:\n", "  next: end\n  split:\n", 1)
    issue = only(issues_of(tmp_path, journey(steps=with_next)))
    assert issue.key == "steps[0].next"
    assert "a split chooses its next step" in issue.message
    extra = SPLIT_STEPS.replace("weight: 50, next: short-offer}", "weight: 50, next: short-offer, w: 1}")
    issue = only(issues_of(tmp_path, journey(steps=extra)))
    assert issue.key == "steps[0].split.variants[0].w"
    assert "unknown key 'w'" in issue.message


def test_a_journey_splits_once(tmp_path: Path) -> None:
    again = SPLIT_STEPS.replace(
        "- id: long-offer\n",
        "- id: again\n  split:\n    variants:\n"
        "      - {name: a, weight: 1, next: long-offer}\n"
        "      - {name: b, weight: 1, next: end}\n- id: long-offer\n",
    )
    again = again.replace("next: long-offer}\n", "next: again}\n", 1)
    issue = only(issues_of(tmp_path, journey(steps=again)))
    assert issue.key == "steps[2].split"
    assert "splits at most once" in issue.message


# -- assignment ------------------------------------------------------------------------------------

VARIANTS = [Variant(name="short", weight=30, next="a"), Variant(name="long", weight=70, next="b")]


def test_the_same_contact_gets_the_same_variant_in_the_same_journey() -> None:
    assert variant_of("promo-run", "ana", VARIANTS) == variant_of("promo-run", "ana", VARIANTS)
    assignments = {variant_of(f"journey-{n}", "ana", VARIANTS).name for n in range(40)}
    assert assignments == {"short", "long"}  # another journey is another draw


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=100), min_size=2, max_size=4),
    journey_id=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
)
def test_split_shares_approach_the_weights_and_assignment_is_stable(
    weights: list[int], journey_id: str
) -> None:
    variants = [Variant(name=f"v{n}", weight=w, next="end") for n, w in enumerate(weights)]
    contacts = [f"contact-{n}" for n in range(4000)]
    first = [variant_of(journey_id, contact, variants).name for contact in contacts]
    again = [variant_of(journey_id, contact, variants).name for contact in contacts]
    assert first == again
    counts = Counter(first)
    total = sum(weights)
    for variant in variants:
        share = variant.weight / total
        # Four standard deviations of a binomial share over 4,000 contacts, and a little more.
        allowed = 4 * (share * (1 - share) / len(contacts)) ** 0.5 + 0.005
        assert abs(counts[variant.name] / len(contacts) - share) <= allowed, (variant, counts)


@settings(max_examples=15, derandomize=True, deadline=None)
@given(tenths=st.integers(min_value=1, max_value=999))
def test_the_holdout_share_approaches_its_percentage(tenths: int) -> None:
    holdout = f"{tenths // 10}.{tenths % 10}%"
    contacts = [f"contact-{n}" for n in range(4000)]
    held = [held_out("promo-run", contact, holdout) for contact in contacts]
    assert held == [held_out("promo-run", contact, holdout) for contact in contacts]
    share = tenths / 1000
    allowed = 4 * (share * (1 - share) / len(contacts)) ** 0.5 + 0.005
    assert abs(sum(held) / len(contacts) - share) <= allowed


def test_the_holdout_and_the_split_are_independent_draws() -> None:
    contacts = [f"contact-{n}" for n in range(6000)]
    held = [contact for contact in contacts if held_out("promo-run", contact, "50%")]
    counts = Counter(variant_of("promo-run", contact, VARIANTS).name for contact in held)
    # Among the held-out half, the variants keep their 30/70 shares.
    assert abs(counts["short"] / len(held) - 0.3) < 0.03
    assert not held_out("promo-run", "ana", None)
