"""Which template text could have printed this text: a pure matcher, no AWS, no stored bodies.

A template text is cut into its literal pieces by Jinja's own lexer; every `{{ ... }}` and
`{% ... %}` between them is a wildcard (any value, empty included). A piece inside a block
(`{% if %}`, `{% for %}`) is optional: the block may print it, or not, or more than once.
Comparison ignores case (casefold) and whitespace (removed: a value may bring or drop spaces,
a subject is re-spaced, an SMS trimmed), and the text may be only a fragment of the message.

The score of a match is the number of the text's characters that the template's literal
pieces account for, in order, with whatever the wildcards printed between them. A text
inside a single value scores 0: a wildcard matches anything, so only literals are evidence.
A template matches when its score reaches `MIN_LITERAL_CHARS`, or every literal character of a
template with fewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import jinja2

# Enough literal text that a match is the template's words, not a coincidence of a few letters.
MIN_LITERAL_CHARS: Final = 10

# Block tags that open a block whose content may be printed any number of times, or not at all.
_OPENERS: Final = frozenset({"if", "for", "with", "filter", "macro", "call", "block", "autoescape", "trans"})
# Lexing only: nothing is compiled, rendered or escaped (the rendering sandbox is `journeys.render`).
_LEXER: Final = jinja2.Environment(autoescape=True)


def normalize(text: str) -> str:
    """Case and whitespace folded away: what two texts are compared on."""
    return "".join(text.casefold().split())


@dataclass(frozen=True, slots=True)
class Piece:
    text: str  # normalized
    optional: bool  # inside a block: printed any number of times, or not at all


@dataclass(frozen=True, slots=True)
class TextPattern:
    """A template text as literal pieces; a wildcard stands between any two of them."""

    pieces: tuple[Piece, ...]
    leading_wildcard: bool
    trailing_wildcard: bool

    @property
    def literal_chars(self) -> int:
        return sum(len(piece.text) for piece in self.pieces if not piece.optional)


@lru_cache(maxsize=4096)
def compile_pattern(source: str) -> TextPattern:
    """The pattern of one template text; a text Jinja cannot lex is taken as all literal."""
    pieces: list[Piece] = []
    depth = 0
    gap = False  # a wildcard since the last piece
    leading = False
    try:
        tokens = list(_LEXER.lex(source))
    except jinja2.TemplateSyntaxError:
        tokens = [(0, "data", source)]
    expect_tag_name = False
    for _, kind, value in tokens:
        if kind == "data":
            text = normalize(value)
            if not text:
                continue
            if pieces and not gap and pieces[-1].optional == (depth > 0):
                pieces[-1] = Piece(pieces[-1].text + text, depth > 0)
            else:
                pieces.append(Piece(text, depth > 0))
            gap = False
            continue
        if kind in ("variable_begin", "block_begin"):
            gap = True
            leading = leading or not pieces
            expect_tag_name = kind == "block_begin"
        elif kind == "name" and expect_tag_name:
            expect_tag_name = False
            if value in _OPENERS or value == "set":
                depth += 1 if value != "set" else 0
            elif value.startswith("end"):
                depth = max(0, depth - 1)
        elif kind == "block_end":
            expect_tag_name = False
    return TextPattern(tuple(pieces), leading_wildcard=leading, trailing_wildcard=gap or not pieces)


def score(pattern: TextPattern, text: str) -> int:
    """How many characters of `text` (normalized) the pattern's literals account for, at best,
    with `text` taken as any fragment of a rendering. 0: only values could have printed it."""
    target = normalize(text)
    if not target:
        return 0
    pieces = pattern.pieces
    best = max((len(target) for piece in pieces if target in piece.text), default=0)
    # The text begins inside piece `start` (a suffix of it), or in the wildcard after it
    # (head 0; start -1: the wildcard before the first piece, when the text leads with one).
    for start in range(-1, len(pieces)):
        for head in _heads(pieces, start, target, pattern.leading_wildcard):
            best = max(best, _rest(pieces, start + 1, target, head, pattern.trailing_wildcard))
    return best


def matches(pattern: TextPattern, text: str) -> int:
    """The score when the pattern matches `text`, else 0."""
    found = score(pattern, text)
    return found if found >= min(MIN_LITERAL_CHARS, max(pattern.literal_chars, 1)) else 0


def _heads(pieces: tuple[Piece, ...], start: int, target: str, leading_wildcard: bool) -> list[int]:
    """Lengths of the suffixes of piece `start` the text can begin with; 0 (the text begins in
    the wildcard after the piece) when a wildcard follows it."""
    if start == -1:
        return [0] if leading_wildcard else []
    piece = pieces[start].text
    heads = []
    at = piece.find(target[0])
    while at >= 0:
        if target.startswith(piece[at:]):
            heads.append(len(piece) - at)
        at = piece.find(target[0], at + 1)
    return [*heads, 0]


def _rest(pieces: tuple[Piece, ...], index: int, target: str, position: int, trailing_wildcard: bool) -> int:
    """The best score of the text from `position` on: what a wildcard prints, then pieces from
    `index` on, each placed leftmost (which leaves the most room for the rest); the text ends in a
    wildcard or inside a piece (a prefix of it). 0 when no ending fits."""
    best = 0
    scored = position
    for current in range(index, len(pieces) + 1):
        # The text ends in the wildcard before piece `current` (after the last: if one trails).
        if current < len(pieces) or trailing_wildcard or position == len(target):
            best = max(best, scored)
        if current == len(pieces):
            break
        piece = pieces[current]
        best = max(best, scored + _tail(piece.text, target, position))
        found = target.find(piece.text, position)
        if found < 0:
            if piece.optional:
                continue
            break
        position = found + len(piece.text)
        scored += len(piece.text)
    return best


def _tail(piece: str, target: str, position: int) -> int:
    """The longest prefix of `piece` the text ends with, beginning at or after `position`."""
    room = len(target) - position
    at = piece.rfind(target[-1], 0, room)
    while at >= 0:
        if target.endswith(piece[: at + 1]):
            return at + 1
        at = piece.rfind(target[-1], 0, at)
    return 0
