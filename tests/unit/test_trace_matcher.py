"""The text matcher: a rendering of a template, or a part of one, matches that template; a
text of another template does not; placeholders and tags are wildcards; case and spacing
do not matter."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from baton.journeys.render import compile_source
from baton.tracing.matcher import MIN_LITERAL_CHARS, compile_pattern, matches, normalize, score

ORDER_SHIPPED = (
    "{{ brand }}: your order {{ event.order_id }} has shipped. Track it here: {{ event.tracking_url }}"
)


def test_a_pasted_sms_matches_its_template_whatever_the_values() -> None:
    pattern = compile_pattern(ORDER_SHIPPED)
    text = "Acme: your order A-1234 has shipped. Track it here: https://track.example/abc"
    assert matches(pattern, text) == len(normalize(": your order  has shipped. Track it here: "))


def test_case_and_spacing_do_not_matter() -> None:
    pattern = compile_pattern(ORDER_SHIPPED)
    shouted = matches(pattern, "YOUR   ORDER 77\nhas  SHIPPED.")
    assert shouted == matches(pattern, "your order 77 has shipped.") > 0


def test_a_fragment_from_the_middle_of_a_value_to_the_middle_of_a_word_matches() -> None:
    pattern = compile_pattern(ORDER_SHIPPED)
    # starts inside the order id, ends inside "Track"
    assert matches(pattern, "1234 has shipped. Tra") == len("hasshipped.tra")


def test_a_text_printed_only_by_values_does_not_match() -> None:
    pattern = compile_pattern(ORDER_SHIPPED)
    assert score(pattern, "https://track.example/abc") == 0
    assert matches(pattern, "Acme") == 0


def test_a_few_common_letters_are_no_match() -> None:
    pattern = compile_pattern(ORDER_SHIPPED)
    assert 0 < score(pattern, "your order") < MIN_LITERAL_CHARS
    assert matches(pattern, "your order") == 0


def test_text_inside_a_block_is_optional_and_the_tags_are_wildcards() -> None:
    pattern = compile_pattern(
        "Olá{% if contact.first_name %} {{ contact.first_name }}{% endif %},"
        " boa notícia: seu pedido foi enviado."
    )
    assert matches(pattern, "Olá, boa notícia: seu pedido foi enviado.") > 0
    assert matches(pattern, "Olá Ana, boa notícia: seu pedido foi enviado.") > 0


def test_a_template_with_fewer_literal_characters_than_the_minimum_matches_on_all_of_them() -> None:
    pattern = compile_pattern("Hi {{ contact.first_name }}!")
    assert matches(pattern, "Hi Ana!") == 3
    assert matches(pattern, "Hi Ana") == 0


def test_a_text_that_goes_on_past_a_template_ending_in_a_literal_is_not_its_fragment() -> None:
    pattern = compile_pattern("{{ brand }}: your parcel has been delivered today")
    assert matches(pattern, "your parcel has been delivered today") > 0
    assert score(pattern, "your parcel has been delivered today and more words") < len(
        normalize("your parcel has been delivered today and more words")
    )


def test_text_that_jinja_cannot_read_is_matched_as_words() -> None:
    pattern = compile_pattern("Your code is {{ unclosed")
    assert matches(pattern, "your code is {{ unclosed") > 0


# Property tests: templates of words and placeholders, rendered by Baton's own renderer.
# The two vocabularies share no letter, so a text of one template cannot hold the other's words.
WORDS_A = ("bed", "face", "jam", "hill", "deck", "milk", "game", "black", "glade", "dim", "BAKED", "Hide")
WORDS_B = ("sun", "tops", "worry", "zoo", "point", "story", "quiz", "sport", "storm", "wrong", "RUST", "Tour")


@dataclass(frozen=True)
class Segment:
    source: str  # template text
    kind: str  # "literal", "value" or "block"
    name: str = ""  # the value's name (event.<name>)


def _literal(words: tuple[str, ...]) -> st.SearchStrategy[Segment]:
    return st.lists(st.sampled_from(words), min_size=1, max_size=6).map(
        lambda chosen: Segment(" " + " ".join(chosen) + _punctuation(chosen) + " ", "literal")
    )


def _punctuation(chosen: list[str]) -> str:
    return "," if len(chosen) % 2 else "."


@st.composite
def templates(draw: st.DrawFn, words: tuple[str, ...]) -> list[Segment]:
    """Literals and values in turn, a long literal among them, and an optional block."""
    segments: list[Segment] = []
    count = draw(st.integers(min_value=1, max_value=4))
    for index in range(count):
        if draw(st.booleans()) or index == 0:
            segments.append(Segment(f"{{{{ event.v{index} }}}}", "value", f"v{index}"))
        segments.append(draw(_literal(words)))
    long_words = draw(st.lists(st.sampled_from(words), min_size=4, max_size=6))
    segments.insert(draw(st.integers(0, len(segments))), Segment(" " + " ".join(long_words) + " ", "literal"))
    if draw(st.booleans()):
        inner = draw(_literal(words))
        segments.append(Segment("{% if event.flag %}" + inner.source + "{% endif %}", "block"))
    if draw(st.booleans()):
        segments.append(Segment("{{ event.tail }}", "value", "tail"))
    return segments


def _render(segments: list[Segment], values: dict[str, object]) -> tuple[str, list[str]]:
    """The whole rendering (Baton's renderer) and each segment's part of it."""
    parts = [compile_source(segment.source, html=False).render({"event": values}) for segment in segments]
    whole = compile_source("".join(segment.source for segment in segments), html=False).render(
        {"event": values}
    )
    assert whole == "".join(parts)
    return whole, parts


ARBITRARY = st.text(max_size=40)
DIGITS = st.text(alphabet="0123456789-/#:$", max_size=12)


def _values(
    draw: st.DrawFn, segments: list[Segment], value_text: st.SearchStrategy[str]
) -> dict[str, object]:
    values: dict[str, object] = {segment.name: draw(value_text) for segment in segments if segment.name}
    values["flag"] = draw(st.booleans())
    return values


@settings(max_examples=150, derandomize=True, deadline=None)
@given(data=st.data())
def test_any_rendering_of_a_template_with_arbitrary_values_matches_that_template(data: st.DataObject) -> None:
    segments = data.draw(templates(WORDS_A))
    text, _ = _render(segments, _values(data.draw, segments, ARBITRARY))
    pattern = compile_pattern("".join(segment.source for segment in segments))
    assert matches(pattern, text) >= pattern.literal_chars


@settings(max_examples=150, derandomize=True, deadline=None)
@given(data=st.data())
def test_a_fragment_of_a_rendering_holding_a_whole_literal_matches(data: st.DataObject) -> None:
    segments = data.draw(templates(WORDS_A))
    _, parts = _render(segments, _values(data.draw, segments, ARBITRARY))
    literal = data.draw(
        st.sampled_from(
            [i for i, s in enumerate(segments) if s.kind == "literal" and len(normalize(s.source)) >= 10]
        )
    )
    before, after = "".join(parts[:literal]), "".join(parts[literal + 1 :])
    start = data.draw(st.integers(0, len(before)))
    end = data.draw(st.integers(0, len(after)))
    fragment = before[start:] + parts[literal] + after[:end]
    pattern = compile_pattern("".join(segment.source for segment in segments))
    assert matches(pattern, fragment) >= len(normalize(parts[literal]))


@settings(max_examples=150, derandomize=True, deadline=None)
@given(data=st.data())
def test_a_text_of_another_template_does_not_match(data: st.DataObject) -> None:
    ours = data.draw(templates(WORDS_A))
    theirs = data.draw(templates(WORDS_B))
    text, _ = _render(theirs, _values(data.draw, theirs, DIGITS))
    start = data.draw(st.integers(0, len(text)))
    fragment = text[start:]
    pattern = compile_pattern("".join(segment.source for segment in ours))
    assert matches(pattern, text) == 0
    assert matches(pattern, fragment) == 0
    # and their own template ranks above ours for their text
    assert score(compile_pattern("".join(s.source for s in theirs)), text) > score(pattern, text)
