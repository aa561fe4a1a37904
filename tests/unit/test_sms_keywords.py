"""Inbound SMS keywords (R-CTIA-1/2/4, R-TCPA-3): what each reply is taken to mean."""

from __future__ import annotations

import pytest

from baton.sms.keywords import DEFAULT_KEYWORDS, InboundKeyword, KeywordLists, classify

RULEBOOK_OPT_OUT = [
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
]


@pytest.mark.parametrize("word", RULEBOOK_OPT_OUT)
def test_r_ctia_1_every_rulebook_opt_out_keyword_opts_out(word: str) -> None:
    assert classify(word) == InboundKeyword.OPT_OUT


@pytest.mark.parametrize("word", ["STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE"])
def test_r_tcpa_3_fcc_revocation_words_always_opt_out(word: str) -> None:
    assert classify(word) == InboundKeyword.OPT_OUT


@pytest.mark.parametrize(
    "body",
    [
        "stop",
        "Stop",
        "  STOP  ",
        "Stop.",
        "STOP!",
        "stop!!!",
        '"Stop"',
        "opt   out",
        "Opt-Out",
        "Sair.",
        "ARRÊT",
    ],
)
def test_r_ctia_1_opt_out_ignores_case_spacing_accents_and_surrounding_punctuation(body: str) -> None:
    assert classify(body) == InboundKeyword.OPT_OUT


@pytest.mark.parametrize("body", ["HELP", "help", "Help?", "AJUDA", "ajuda"])
def test_r_ctia_2_help_and_ajuda_ask_for_help(body: str) -> None:
    assert classify(body) == InboundKeyword.HELP


@pytest.mark.parametrize("body", ["START", "start", "UNSTOP", "Unstop."])
def test_r_ctia_4_start_and_unstop_opt_back_in(body: str) -> None:
    assert classify(body) == InboundKeyword.OPT_IN


@pytest.mark.parametrize("body", ["YES", "yes", "Yes!", "SIM", "sim."])
def test_r_ctia_3_yes_and_sim_confirm_a_pending_sms_opt_in(body: str) -> None:
    assert classify(body) == InboundKeyword.CONFIRM


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "Stop sending me these",
        "I want to unsubscribe",
        "take me off your list",
        "don't text me again",
        "Don\u2019t text me again",  # the apostrophe phones type
        "wrong number",
        "pare de me enviar",
        "Pare de me enviar mensagens!",
        "não quero mais receber",
        "me tire da lista por favor",
        "quero sair",
        "STOP STOP",
        "No more",
        "no more!!",
        "NO   MORE.",
        "No more, thanks",
        "opt me out",
        "do not contact me",
        "Não quero mais",
        "NÃO QUERO MAIS!!!",
        "nao   quero  mais",
        "Chega!",
        "não me mande mais nada",
        "parem com isso",
        "me descadastra",
    ],
)
def test_r_ctia_1_free_text_that_revokes_is_likely_opt_out_never_ignored(body: str) -> None:
    assert classify(body) == InboundKeyword.LIKELY_OPT_OUT


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "hello",
        "What time do you open?",
        "Thanks!",
        "Obrigado",
        "yes please",
        "see you at the weekend",
        "quero mais informações",
        "Is there more?",
    ],
)
def test_ordinary_replies_are_other(body: str) -> None:
    assert classify(body) == InboundKeyword.OTHER


def test_keywords_match_the_whole_message_not_a_word_inside_it() -> None:
    assert classify("HELP ME") == InboundKeyword.OTHER
    assert classify("startup news?") == InboundKeyword.OTHER
    assert classify("nonstop") == InboundKeyword.OTHER


def test_r_ctia_1_lists_are_configurable_and_extensions_apply() -> None:
    lists = KeywordLists(
        opt_out=DEFAULT_KEYWORDS.opt_out | {"BASTA"},
        revocation_phrases=DEFAULT_KEYWORDS.revocation_phrases | {"nunca mais"},
    )

    assert classify("Basta!", lists) == InboundKeyword.OPT_OUT
    assert classify("nunca mais me escreva", lists) == InboundKeyword.LIKELY_OPT_OUT
    assert classify("Basta!") == InboundKeyword.OTHER


def test_opt_out_wins_when_an_operator_puts_a_word_in_two_lists() -> None:
    lists = KeywordLists(help=DEFAULT_KEYWORDS.help | {"STOP"})

    assert classify("STOP", lists) == InboundKeyword.OPT_OUT
