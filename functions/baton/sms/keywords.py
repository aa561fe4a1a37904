"""Classify an inbound text: opt-out, help, opt-in, confirmation, a likely opt-out, or other.

Keywords match the whole message (R-CTIA-1): trimmed, case- and accent-insensitive, with
surrounding punctuation ("Stop.", "STOP!") and repeated spaces ignored. Free text that
clearly revokes ("please stop texting me") is LIKELY_OPT_OUT, so the caller can route it to
a person instead of ignoring it (R-CTIA-1, R-TCPA-3).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class InboundKeyword(StrEnum):
    OPT_OUT = "opt_out"  # R-CTIA-1, R-TCPA-3
    HELP = "help"  # R-CTIA-2
    OPT_IN = "opt_in"  # R-CTIA-4: START / UNSTOP re-subscribe after an opt-out
    CONFIRM = "confirm"  # YES / SIM to a confirmation request (double opt-in, R-CTIA-3)
    LIKELY_OPT_OUT = "likely_opt_out"  # free text that revokes: route to a person
    OTHER = "other"


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-"})  # phone keyboards


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Não' and 'NAO' compare equal, as do 'ARRÊT' and 'arret'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w'-]+|(?<!\w)['-]|['-](?!\w)")


def _keyword_form(text: str) -> str:
    """The whole message as one keyword: trimmed, punctuation at the edges dropped, spaces collapsed."""
    folded = _EDGE_PUNCTUATION.sub("", _fold(text))
    return _SPACES.sub(" ", folded)


def _phrase_form(text: str) -> str:
    """Words separated by single spaces; apostrophes and hyphens inside words are kept."""
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", _fold(text))).strip()


def _words(*items: str) -> frozenset[str]:
    return frozenset(items)


# R-CTIA-1. The Portuguese words are unsourced [?]: hence configurable.
DEFAULT_OPT_OUT = _words(
    "STOP",
    "STOPALL",
    "END",
    "CANCEL",
    "UNSUBSCRIBE",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "OPT-OUT",
    "OPT OUT",
    "REMOVE",
    "ARRET",
    "TD",
    "PARAR",
    "SAIR",
    "CANCELAR",
    "DESCADASTRAR",
)
DEFAULT_HELP = _words("HELP", "AJUDA")  # R-CTIA-2
DEFAULT_OPT_IN = _words("START", "UNSTOP")  # R-CTIA-4
DEFAULT_CONFIRM = _words("YES", "SIM")
# Words and phrases that, inside a longer text, signal a wish to stop. Deliberately broad:
# a false positive costs a person a glance, a false negative ignores a revocation. Words
# that are common in ordinary replies ("end", "td") are left out.
DEFAULT_REVOCATION_PHRASES = _words(
    "stop",
    "stopall",
    "unsubscribe",
    "opt out",
    "opt-out",
    "optout",
    "revoke",
    "quit",
    "cancel",
    "remove me",
    "take me off",
    "do not text",
    "don't text",
    "dont text",
    "do not message",
    "don't message",
    "no more",
    "stop sending",
    "stop texting",
    "opt me out",
    "please remove",
    "do not contact",
    "don't contact",
    "dont contact",
    "dont message",
    "leave me alone",
    "wrong number",
    "pare",
    "parar",
    "para de",
    "sair",
    "cancelar",
    "descadastrar",
    "descadastre",
    "me tire",
    "me tira",
    "me remova",
    "remover meu",
    "nao quero",
    "nao envie",
    "nao mande",
    "chega",
    "parem",
    "pode parar",
    "descadastra",
    "nao me mande",
    "nao me envie",
    "nao mandem",
    "nao enviem",
    "numero errado",
)


@dataclass(frozen=True, slots=True)
class KeywordLists:
    """The keyword lists; an operator may extend them (never shorten below the rulebook)."""

    opt_out: frozenset[str] = DEFAULT_OPT_OUT
    help: frozenset[str] = DEFAULT_HELP
    opt_in: frozenset[str] = DEFAULT_OPT_IN
    confirm: frozenset[str] = DEFAULT_CONFIRM
    revocation_phrases: frozenset[str] = DEFAULT_REVOCATION_PHRASES
    # Normalised copies, computed once.
    _exact: tuple[tuple[frozenset[str], InboundKeyword], ...] = field(init=False, repr=False, compare=False)
    _phrases: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Opt-out is checked first: if a word were in two lists, stopping wins.
        exact = (
            (frozenset(_keyword_form(w) for w in self.opt_out), InboundKeyword.OPT_OUT),
            (frozenset(_keyword_form(w) for w in self.help), InboundKeyword.HELP),
            (frozenset(_keyword_form(w) for w in self.opt_in), InboundKeyword.OPT_IN),
            (frozenset(_keyword_form(w) for w in self.confirm), InboundKeyword.CONFIRM),
        )
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_phrases", frozenset(_phrase_form(p) for p in self.revocation_phrases))


DEFAULT_KEYWORDS = KeywordLists()

# The lists a deployment may extend (`smsKeywords` in cdk.json's `delivery`).
LIST_NAMES = ("opt_out", "help", "opt_in", "confirm", "revocation_phrases")


def keyword_lists(extra: Mapping[str, Iterable[str]]) -> KeywordLists:
    """The default lists, each extended by the configured words: a deployment adds words (a
    programme's own keyword, another language's), it never loses the rulebook's. Keys are the
    list names, snake_case or camelCase; ValueError names an unknown one or an empty word."""
    added: dict[str, frozenset[str]] = {}
    for key, words in extra.items():
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
        if name not in LIST_NAMES:
            raise ValueError(f"{key!r} is not a keyword list (known: {', '.join(LIST_NAMES)})")
        cleaned = [str(word).strip() for word in words]
        if not all(keyword_form(word) for word in cleaned):
            raise ValueError(f"{key}: a keyword needs a letter or digit")
        added[name] = getattr(DEFAULT_KEYWORDS, name) | frozenset(cleaned)
    return KeywordLists(**added) if added else DEFAULT_KEYWORDS


def keyword_form(text: str) -> str:
    """A text as the classifier compares whole messages: folded, trimmed, spaces collapsed."""
    return _keyword_form(text)


def classify(body: str, lists: KeywordLists = DEFAULT_KEYWORDS) -> InboundKeyword:
    """What an inbound text asks for."""
    keyword = _keyword_form(body)
    if not keyword:
        return InboundKeyword.OTHER
    for words, kind in lists._exact:
        if keyword in words:
            return kind
    padded = f" {_phrase_form(body)} "
    if any(f" {phrase} " in padded for phrase in lists._phrases if phrase):
        return InboundKeyword.LIKELY_OPT_OUT
    return InboundKeyword.OTHER
