"""R-BR-1 on `baton local`: `baton dnc load FILE` reaches the list route of the synthesized
template, and the list it loads stops a marketing text to a listed number."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton import bootstrap
from baton.delivery.gate import Reason
from baton.delivery.message import OutboundMessage, Purpose
from infra import dnc
from infra.http_client import LocalClient

pytestmark = pytest.mark.e2e

LIST = "br_nao_me_perturbe"
LISTED = "+5511987650001"


def test_r_br_1_baton_dnc_load_loads_the_list_on_the_local_stack(api: LocalClient, tmp_path: Path) -> None:
    file = tmp_path / "nao-me-perturbe.txt"
    file.write_text(f"{LISTED}\n(21) 99876-0002\n", encoding="utf-8")
    printed: list[str] = []

    assert dnc.load_file(api, LIST, file, printed.append) == 0
    assert dnc.show_status(api, LIST, printed.append) == 0

    assert printed[-1].startswith(f"{LIST}: 2 numbers in force")
    assert api.get(f"/v1/do-not-contact/{LIST}", auth=False).status == 401
    message = OutboundMessage.sms(
        to=LISTED, purpose=Purpose.MARKETING, text="Oferta. SAIR p/ sair", topic="news"
    )
    assert bootstrap.services().dispatcher.check(None, message).reason == Reason.DO_NOT_CONTACT_LIST
