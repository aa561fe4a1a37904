"""R-BR-1: the "Não Me Perturbe" list an operator loads, on moto: each load a new generation in
force only once it is whole, kept apart from suppression (opt-outs, opt-ins and erasure), and
read by the dispatcher only for marketing texts and calls to Brazilian numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from baton import bootstrap
from baton.clock import FixedClock
from baton.consent.vocabulary import Channel
from baton.delivery.gate import Reason
from baton.delivery.message import OutboundMessage, Purpose
from baton.do_not_contact import service
from baton.do_not_contact.exceptions import LoadSuperseded
from baton.do_not_contact.models import MAX_NUMBERS, ListStatus
from baton.do_not_contact.repository import DynamoDoNotContactRepository
from baton.do_not_contact.service import DoNotContactService
from baton.settings import Settings
from baton.suppression.models import SuppressionReason
from baton.suppression.service import SuppressionService
from infra import dnc
from infra.http_client import HttpResponse
from tests.integration import handler_calls
from tests.integration.handler_calls import Answer, Baton
from tests.integration.journeys import REGION

LIST = "br_nao_me_perturbe"
PATH = f"/v1/do-not-contact/{LIST}"
SAO_PAULO = "+5511912345678"
RIO = "+5521998765432"
SEATTLE = "+14255550182"
BELO_HORIZONTE = "+5531987654321"


@pytest.fixture
def baton(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Baton]:
    yield handler_calls.start(aws, monkeypatch)
    handler_calls.stop()


def _load(baton: Baton, *numbers: str) -> dict[str, object]:
    answer = baton.call("PUT", PATH, {"numbers": list(numbers)})
    assert answer.status == 200, answer
    body: dict[str, object] = answer.body
    return body


def _listed(number: str) -> bool:
    return bootstrap.services().do_not_contact.listed(number) is not None


def _items(settings: Settings) -> list[dict[str, object]]:
    return boto3.client("dynamodb", region_name=REGION).scan(TableName=settings.do_not_contact_table)["Items"]


def _marketing(channel: Channel, to: str) -> OutboundMessage:
    return OutboundMessage.phone(
        channel, to=to, purpose=Purpose.MARKETING, text="Ofertas. SAIR p/ sair", topic="offers"
    )


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VOICE])
def test_r_br_1_a_loaded_list_refuses_marketing_texts_and_calls_to_its_numbers(
    baton: Baton, channel: Channel
) -> None:
    _load(baton, SAO_PAULO)

    decision = bootstrap.services().dispatcher.check(None, _marketing(channel, SAO_PAULO))
    other = bootstrap.services().dispatcher.check(None, _marketing(channel, RIO))

    assert (decision.reason, decision.rule) == (Reason.DO_NOT_CONTACT_LIST, "R-BR-1")
    assert other.reason != Reason.DO_NOT_CONTACT_LIST


def test_r_br_1_a_load_answers_its_generation_count_and_time_and_the_status_reads_the_same(
    baton: Baton,
) -> None:
    loaded = _load(baton, SAO_PAULO, "(21) 99876-5432", "+55 11 91234-5678")  # a national form, a repeat

    status = baton.call("GET", PATH)

    assert status.status == 200
    assert status.body == loaded
    assert set(loaded) == {"list", "generation", "loaded_at", "count"}
    assert (loaded["list"], loaded["count"]) == (LIST, 2)


def test_r_br_1_no_number_is_stored_in_clear(baton: Baton, aws: Settings) -> None:
    _load(baton, SAO_PAULO, RIO)

    stored = repr(_items(aws))

    for number in (SAO_PAULO, RIO):
        assert number not in stored
        assert number.removeprefix("+55") not in stored


def test_r_br_1_a_reload_without_a_number_releases_it_and_deletes_the_older_generation(
    baton: Baton, aws: Settings
) -> None:
    first = _load(baton, SAO_PAULO, RIO)

    second = _load(baton, RIO)

    assert not _listed(SAO_PAULO)
    assert _listed(RIO)
    assert second["generation"] != first["generation"]
    entries = [item for item in _items(aws) if not str(item["pk"]["S"]).startswith("LIST#")]
    assert {item["pk"]["S"] for item in entries} == {f"{LIST}#{second['generation']}"}
    assert {item["sk"]["S"] for item in _items(aws) if item["pk"]["S"] == f"LIST#{LIST}"} == {
        "CURRENT",
        f"GENERATION#{second['generation']}",
    }


class _CutShort(DynamoDoNotContactRepository):
    """Writes part of a generation, then fails, as a load whose function timed out would."""

    def write(self, name: str, generation: str, hashes: object) -> None:
        super().write(name, generation, list(hashes)[:1])  # type: ignore[call-overload]
        raise TimeoutError("the function ran out of time")


def _service(
    repository: DynamoDoNotContactRepository, suppression: SuppressionService
) -> DoNotContactService:
    return DoNotContactService(repository, suppression.hash, FixedClock(bootstrap.services().clock.now()))


def test_r_br_1_a_load_cut_short_leaves_the_list_in_force_as_it_was(
    baton: Baton, aws: Settings, suppression: SuppressionService
) -> None:
    before = _load(baton, SAO_PAULO)
    cut_short = _service(_CutShort(aws.do_not_contact_table), suppression)

    with pytest.raises(TimeoutError):
        cut_short.load(LIST, [RIO, BELO_HORIZONTE])

    assert _listed(SAO_PAULO)
    assert not _listed(RIO)
    assert baton.call("GET", PATH).body == before
    after = _load(baton, RIO)  # the next load deletes what the one cut short left
    assert {item["pk"]["S"] for item in _items(aws)} == {f"LIST#{LIST}", f"{LIST}#{after['generation']}"}


def test_r_br_1_a_load_begun_earlier_never_replaces_one_that_finished_later(
    baton: Baton, aws: Settings, suppression: SuppressionService
) -> None:
    repository = DynamoDoNotContactRepository(aws.do_not_contact_table)
    early = FixedClock(bootstrap.services().clock.now())
    slow = DoNotContactService(repository, suppression.hash, early)
    status = ListStatus(list=LIST, generation="0" * 26, loaded_at=early.now(), count=1)
    newer = _load(baton, SAO_PAULO)
    repository.begin(status)

    assert not repository.switch(status)
    with pytest.raises(LoadSuperseded):
        slow.load(LIST, [RIO])  # decided on ids: a clock behind the newest load loses too

    assert baton.call("GET", PATH).body == newer
    assert _listed(SAO_PAULO)
    assert not _listed(RIO)


def test_r_br_1_an_opt_out_of_a_listed_number_survives_a_reload_without_it(
    baton: Baton, suppression: SuppressionService
) -> None:
    _load(baton, SAO_PAULO)
    baton.text_in(SAO_PAULO, "SAIR", "in-1")

    _load(baton, RIO)

    assert not _listed(SAO_PAULO)
    entry = suppression.check(Channel.SMS, SAO_PAULO)
    assert entry is not None
    assert entry.reason == SuppressionReason.OPT_OUT


def test_r_br_1_start_lifts_an_opt_out_but_not_the_list_entry(
    baton: Baton, suppression: SuppressionService
) -> None:
    _load(baton, SAO_PAULO)
    baton.text_in(SAO_PAULO, "STOP", "in-1")

    baton.text_in(SAO_PAULO, "START", "in-2")

    assert suppression.check(Channel.SMS, SAO_PAULO) is None
    assert _listed(SAO_PAULO)
    decision = bootstrap.services().dispatcher.check(None, _marketing(Channel.SMS, SAO_PAULO))
    assert decision.reason == Reason.DO_NOT_CONTACT_LIST


def test_r_br_1_erasing_a_contact_leaves_its_number_on_the_list(baton: Baton) -> None:
    assert baton.call("PUT", "/v1/contacts/joao", {"phone": SAO_PAULO, "country": "BR"}).status == 201
    _load(baton, SAO_PAULO)

    assert baton.call("DELETE", "/v1/contacts/joao").status == 202

    assert _listed(SAO_PAULO)


class _Counting(DynamoDoNotContactRepository):
    reads = 0

    def current(self, name: str) -> ListStatus | None:
        self.reads += 1
        return super().current(name)


def test_r_br_1_a_number_of_another_country_costs_no_list_read(
    baton: Baton, aws: Settings, suppression: SuppressionService
) -> None:
    _load(baton, SAO_PAULO)
    repository = _Counting(aws.do_not_contact_table)
    lists = _service(repository, suppression)

    assert lists.listed(SEATTLE) is None
    assert repository.reads == 0
    assert lists.listed(SAO_PAULO) is not None
    assert repository.reads == 1


# -- the API refuses a bad load with a 4xx naming what is wrong, and writes nothing -------------


@pytest.mark.parametrize(
    ("numbers", "field"),
    [
        ([SAO_PAULO, SEATTLE], "numbers.1"),  # not Brazilian
        (["not a number", SAO_PAULO], "numbers.0"),
        ([SAO_PAULO, RIO, "+55 11 1234"], "numbers.2"),  # too short to be a number
        ([], "numbers"),
        ([SAO_PAULO] * (MAX_NUMBERS + 1), "numbers"),
        (["9" * 65], "numbers.0"),
    ],
    ids=["other-country", "not-a-number", "invalid", "empty", "too-many", "too-long"],
)
def test_r_br_1_a_load_with_a_bad_entry_is_422_naming_it_and_changes_nothing(
    baton: Baton, numbers: list[str], field: str
) -> None:
    _load(baton, RIO)
    before = baton.snapshot()

    answer = baton.call("PUT", PATH, {"numbers": numbers})

    assert answer.status == 422, answer
    assert field in answer.fields
    assert baton.snapshot() == before
    for number in numbers[:3]:
        assert number not in str(answer.body) or number == "not a number"


def test_r_br_1_a_load_body_with_an_unknown_key_is_422(baton: Baton) -> None:
    answer = baton.call("PUT", PATH, {"numbers": [SAO_PAULO], "replace": False})

    assert (answer.status, answer.fields) == (422, {"replace"})


def test_r_br_1_an_unknown_list_is_404_and_a_list_never_loaded_has_no_status(baton: Baton) -> None:
    assert baton.call("PUT", "/v1/do-not-contact/us_dnc", {"numbers": [SEATTLE]}).status == 404
    assert baton.call("GET", "/v1/do-not-contact/us_dnc").status == 404
    assert baton.call("GET", PATH).status == 404
    assert baton.call("GET", "/v1/do-not-contact/Not-A-Name").status == 422


def test_r_br_1_a_whole_list_fits_a_load_body(baton: Baton) -> None:
    numbers = [f"+55119{n:08d}" for n in range(1_000)]

    answer = baton.call("PUT", PATH, {"numbers": numbers})

    assert answer.status == 200, answer
    assert answer.body["count"] == 1_000


# -- baton dnc load FILE: the same route, with refusals named by the file's line ----------------


class _Api:
    """`baton dnc`'s HTTP client, answered by the private API's handler in this process."""

    def __init__(self, baton: Baton) -> None:
        self._baton = baton
        self.sent: list[tuple[str, str, int]] = []  # method, path, numbers in the body

    def put(self, path: str, *, json_body: dict[str, list[str]]) -> HttpResponse:
        self.sent.append(("PUT", path, len(json_body["numbers"])))
        return self._answer(self._baton.call("PUT", path, json_body))

    def post(self, path: str, *, json_body: object) -> HttpResponse:
        self.sent.append(("POST", path, 0))
        return self._answer(self._baton.call("POST", path, json_body))

    def get(self, path: str) -> HttpResponse:
        return self._answer(self._baton.call("GET", path))

    @staticmethod
    def _answer(answer: Answer) -> HttpResponse:
        return HttpResponse(answer.status, {}, json.dumps(answer.body))


def test_r_br_1_baton_dnc_load_reads_a_csv_first_column_and_loads_it(baton: Baton, tmp_path: Path) -> None:
    file = tmp_path / "nao-me-perturbe.csv"
    file.write_text(f"telefone,operadora\n{SAO_PAULO},vivo\n\n(21) 99876-5432,claro\n", encoding="utf-8")
    printed: list[str] = []

    code = dnc.load_file(_Api(baton), LIST, file, printed.append)

    assert code == 0
    assert _listed(SAO_PAULO)
    assert _listed(RIO)
    assert printed[-1].startswith(f"{LIST}: 2 numbers loaded from {file} in 1 part(s)")
    assert dnc.show_status(_Api(baton), LIST, printed.append) == 0


def test_r_br_1_baton_dnc_load_names_the_line_of_a_refused_number_and_changes_nothing(
    baton: Baton, tmp_path: Path
) -> None:
    before = _load(baton, RIO)
    file = tmp_path / "list.txt"
    file.write_text(f"{SAO_PAULO}\n\n{SEATTLE}\n", encoding="utf-8")
    printed: list[str] = []

    code = dnc.load_file(_Api(baton), LIST, file, printed.append)

    assert code == 1
    assert printed[0].startswith(f"{file}:3: ")
    assert SEATTLE not in "\n".join(printed)
    assert baton.call("GET", PATH).body == before  # the load begun is never committed
    assert not _listed(SAO_PAULO)


def test_r_br_1_baton_dnc_load_streams_a_20000_number_file_in_parts_and_commits_it(
    baton: Baton, tmp_path: Path
) -> None:
    before = _load(baton, BELO_HORIZONTE)
    file = tmp_path / "nao-me-perturbe.csv"
    with file.open("w", encoding="utf-8") as out:
        out.write("telefone\n")
        out.writelines(f"+55119{n:08d}\n" for n in range(20_000))
    api = _Api(baton)
    printed: list[str] = []

    code = dnc.load_file(api, LIST, file, printed.append)

    assert code == 0, printed
    parts = [(method, path.rsplit("/", 2)[-2:], size) for method, path, size in api.sent if "/parts/" in path]
    assert parts == [("PUT", ["parts", str(n)], MAX_NUMBERS) for n in range(1, 5)]
    assert api.sent[-1][1].endswith("/commit")
    assert printed[:4] == [f"{file}: part {n} stored, {n * MAX_NUMBERS} numbers sent" for n in range(1, 5)]
    assert printed[4].startswith(f"{LIST}: 20000 numbers loaded from {file} in 4 part(s)")
    status = baton.call("GET", PATH).body
    assert (status["count"], status["generation"] > before["generation"]) == (20_000, True)
    assert _listed("+5511900000000")
    assert _listed("+5511900019999")
    assert not _listed(BELO_HORIZONTE)


def test_r_br_1_baton_dnc_load_names_the_line_of_a_bad_number_in_a_later_part_and_never_commits(
    baton: Baton, tmp_path: Path
) -> None:
    before = _load(baton, RIO)
    file = tmp_path / "list.txt"
    lines = [f"+55119{n:08d}" for n in range(12_000)]
    lines[11_000] = SEATTLE  # line 11,001, index 1,000 of part 3
    file.write_text("\n".join(lines), encoding="utf-8")
    api = _Api(baton)
    printed: list[str] = []

    code = dnc.load_file(api, LIST, file, printed.append)

    assert code == 1
    assert printed[2].startswith(f"{file}:11001: ")
    assert printed[-1] == "Nothing was changed: the list in force is as it was."
    assert SEATTLE not in "\n".join(printed)
    assert not any(path.endswith("/commit") for _, path, _ in api.sent)
    assert baton.call("GET", PATH).body == before
    assert not _listed(lines[0])


def test_r_br_1_baton_dnc_load_refuses_a_file_with_no_number_before_sending_anything(
    baton: Baton, tmp_path: Path
) -> None:
    file = tmp_path / "empty.csv"
    file.write_text("telefone\n\n", encoding="utf-8")
    api = _Api(baton)
    printed: list[str] = []

    assert dnc.load_file(api, LIST, file, printed.append) == 1
    assert printed == [f"{file}: holds no number"]
    assert api.sent == []


def test_r_br_1_baton_dnc_load_stops_at_a_file_unreadable_past_its_first_part_and_never_commits(
    baton: Baton, tmp_path: Path
) -> None:
    before = _load(baton, RIO)
    file = tmp_path / "list.txt"
    numbers = "\n".join(f"+55119{n:08d}" for n in range(MAX_NUMBERS * 2))
    file.write_bytes(numbers.encode() + b"\n\xff\xfe\n")
    api = _Api(baton)
    printed: list[str] = []

    assert dnc.load_file(api, LIST, file, printed.append) == 1
    assert printed[-2:] == [
        f"{file}: cannot be read as UTF-8 text (UnicodeDecodeError)",
        "Nothing was changed: the list in force is as it was.",
    ]
    assert [path.rsplit("/", 1)[-1] for _, path, _ in api.sent] == ["loads", "1"]  # part 1 went, no commit
    assert baton.call("GET", PATH).body == before


def test_r_br_1_the_list_file_is_read_a_part_at_a_time(tmp_path: Path) -> None:
    file = tmp_path / "list.txt"
    file.write_text("\n".join(f"+55119{n:08d}" for n in range(MAX_NUMBERS * 2 + 1)), encoding="utf-8")

    parts = dnc.parts_of(dnc.read_numbers(file))

    assert [len(part) for part in parts] == [MAX_NUMBERS, MAX_NUMBERS, 1]


# -- a list of any size: begin a load, send its parts, commit it ----------------------------------


def _begin(baton: Baton) -> str:
    answer = baton.call("POST", f"{PATH}/loads", {})
    assert answer.status == 201, answer
    assert set(answer.body) == {"list", "load_id", "begun_at"}
    load_id: str = answer.body["load_id"]
    return load_id


def _part(baton: Baton, load_id: str, part: int, *numbers: str) -> Answer:
    return baton.call("PUT", f"{PATH}/loads/{load_id}/parts/{part}", {"numbers": list(numbers)})


def _commit(baton: Baton, load_id: str, **announced: int) -> Answer:
    return baton.call("POST", f"{PATH}/loads/{load_id}/commit", announced)


def test_r_br_1_a_load_in_parts_is_in_force_only_once_committed_and_counts_every_part(baton: Baton) -> None:
    before = _load(baton, BELO_HORIZONTE)
    load_id = _begin(baton)
    first = _part(baton, load_id, 1, SAO_PAULO, "+55 11 91234-5678")  # a repeat counts once
    _part(baton, load_id, 2, RIO)

    assert (first.status, first.body["received"], first.body["count"]) == (200, 2, 1)
    assert baton.call("GET", PATH).body == before
    assert not _listed(SAO_PAULO)

    committed = _commit(baton, load_id, parts=2, numbers=3)

    assert committed.status == 200, committed
    assert (committed.body["generation"], committed.body["count"]) == (load_id, 2)
    assert baton.call("GET", PATH).body == committed.body
    assert _listed(SAO_PAULO)
    assert _listed(RIO)
    assert not _listed(BELO_HORIZONTE)


@pytest.mark.parametrize(
    ("sent", "announced", "field", "named"),
    [
        ([1, 3], {"parts": 3}, "parts", "Part(s) 2 not stored."),
        ([1, 3], {"parts": 1}, "parts", "Part(s) 3 stored beyond the 1 announced."),
        ([1, 2], {"parts": 2, "numbers": 3}, "numbers", "The parts carried 2 numbers, not 3."),
    ],
    ids=["missing", "unannounced", "count"],
)
def test_r_br_1_a_commit_short_of_what_it_announces_is_409_naming_it_and_changes_nothing(
    baton: Baton, sent: list[int], announced: dict[str, int], field: str, named: str
) -> None:
    before = _load(baton, BELO_HORIZONTE)
    load_id = _begin(baton)
    for part in sent:
        _part(baton, load_id, part, f"+55119{part:08d}")
    stored = baton.snapshot()

    answer = _commit(baton, load_id, **announced)

    assert (answer.status, answer.body["error"]["code"]) == (409, "load_incomplete")
    assert answer.body["error"]["details"] == [{"field": field, "message": named}]
    assert baton.snapshot() == stored
    assert baton.call("GET", PATH).body == before


def test_r_br_1_a_part_sent_again_writes_the_same_entries_and_other_numbers_are_refused(
    baton: Baton,
) -> None:
    load_id = _begin(baton)
    first = _part(baton, load_id, 1, SAO_PAULO, RIO)
    stored = baton.snapshot()

    again = _part(baton, load_id, 1, RIO, "+55 11 91234-5678")  # the same numbers, another order and form
    other = _part(baton, load_id, 1, SAO_PAULO, BELO_HORIZONTE)

    assert again.body == first.body
    assert (other.status, other.body["error"]["code"], other.fields) == (409, "part_conflict", {"numbers"})
    assert baton.snapshot() == stored
    assert _commit(baton, load_id, parts=1).body["count"] == 2
    assert not _listed(BELO_HORIZONTE)


def test_r_br_1_a_bad_number_in_a_part_is_422_naming_its_index_within_the_part_and_writes_nothing(
    baton: Baton,
) -> None:
    load_id = _begin(baton)
    _part(baton, load_id, 1, SAO_PAULO)
    stored = baton.snapshot()

    answer = _part(baton, load_id, 2, RIO, SEATTLE)

    assert (answer.status, answer.fields) == (422, {"numbers.1"})
    assert SEATTLE not in str(answer.body)
    assert baton.snapshot() == stored
    assert _commit(baton, load_id, parts=2).status == 409


def test_r_br_1_a_load_cut_short_between_parts_leaves_the_list_in_force_and_a_later_load_deletes_it(
    baton: Baton, aws: Settings
) -> None:
    before = _load(baton, BELO_HORIZONTE)
    abandoned = _begin(baton)
    _part(baton, abandoned, 1, SAO_PAULO)  # then the loader stopped: no part 2, no commit

    assert baton.call("GET", PATH).body == before
    assert not _listed(SAO_PAULO)
    after = _load(baton, RIO)
    assert {item["pk"]["S"] for item in _items(aws)} == {f"LIST#{LIST}", f"{LIST}#{after['generation']}"}
    assert _part(baton, abandoned, 2, RIO).status == 409  # begun before the list in force


def test_r_br_1_a_load_begun_earlier_takes_no_part_and_no_commit_once_a_later_one_is_in_force(
    baton: Baton,
) -> None:
    earlier = _begin(baton)
    _part(baton, earlier, 1, SAO_PAULO)
    later = _begin(baton)
    _part(baton, later, 1, RIO)
    in_force = _commit(baton, later, parts=1).body

    part = _part(baton, earlier, 2, BELO_HORIZONTE)
    commit = _commit(baton, earlier, parts=1)

    assert (part.status, part.body["error"]["code"]) == (409, "load_superseded")
    assert (commit.status, commit.body["error"]["code"]) == (409, "load_superseded")
    assert baton.call("GET", PATH).body == in_force
    assert not _listed(SAO_PAULO)


def test_r_br_1_a_committed_load_takes_no_more_parts_and_a_commit_sent_again_answers_the_same(
    baton: Baton,
) -> None:
    load_id = _begin(baton)
    _part(baton, load_id, 1, SAO_PAULO)
    committed = _commit(baton, load_id, parts=1)
    stored = baton.snapshot()

    part = _part(baton, load_id, 2, RIO)
    again = _commit(baton, load_id, parts=1)

    assert (part.status, part.body["error"]["code"]) == (409, "load_committed")
    assert (again.status, again.body) == (200, committed.body)
    assert baton.snapshot() == stored


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("PUT", f"{PATH}/loads/01M8VY6Y3E0CGKP5DJTTA37EZX/parts/1", {"numbers": [RIO]}, 404, None),
        ("POST", f"{PATH}/loads/01M8VY6Y3E0CGKP5DJTTA37EZX/commit", {"parts": 1}, 404, None),
        ("PUT", f"{PATH}/loads/not-a-load/parts/1", {"numbers": [RIO]}, 422, "load_id"),
        ("PUT", f"{PATH}/loads/{{load}}/parts/0", {"numbers": [RIO]}, 422, "part"),
        ("PUT", f"{PATH}/loads/{{load}}/parts/10001", {"numbers": [RIO]}, 422, "part"),
        ("PUT", f"{PATH}/loads/{{load}}/parts/1", {"numbers": [RIO] * (MAX_NUMBERS + 1)}, 422, "numbers"),
        ("POST", f"{PATH}/loads/{{load}}/commit", {}, 422, "parts"),
        ("POST", f"{PATH}/loads/{{load}}/commit", {"parts": 1, "numbers": 0}, 422, "numbers"),
        ("POST", f"{PATH}/loads/{{load}}/commit", {"parts": 1, "force": True}, 422, "force"),
        ("POST", "/v1/do-not-contact/us_dnc/loads", {}, 404, None),
    ],
    ids=[
        "unknown-load",
        "unknown-load-commit",
        "bad-load-id",
        "part-0",
        "part-over",
        "too-many",
        "no-parts",
        "no-numbers",
        "unknown-key",
        "unknown-list",
    ],
)
def test_r_br_1_a_bad_load_request_is_4xx_naming_what_is_wrong_and_changes_nothing(
    baton: Baton, method: str, path: str, body: dict[str, object], status: int, field: str | None
) -> None:
    load_id = _begin(baton)
    stored = baton.snapshot()

    answer = baton.call(method, path.replace("{load}", load_id), body)

    assert answer.status == status, answer
    if field is not None:
        assert field in answer.fields
    assert baton.snapshot() == stored


def test_r_br_1_older_generations_are_deleted_a_bounded_share_per_request(
    baton: Baton, aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "SWEEP_ITEMS", 2)
    old = _load(baton, *(f"+55119{n:08d}" for n in range(5)))  # 5 entries and 1 part record
    new = _load(baton, SAO_PAULO)

    def left(generation: object) -> int:
        return sum(1 for item in _items(aws) if item["pk"]["S"] == f"{LIST}#{generation}")

    assert (left(old["generation"]), _listed("+5511900000000"), _listed(SAO_PAULO)) == (4, False, True)
    load_id = _begin(baton)
    _part(baton, load_id, 1, RIO)
    assert left(old["generation"]) == 2
    _part(baton, load_id, 2, RIO)
    assert left(old["generation"]) == 0
    generations = {item["sk"]["S"] for item in _items(aws) if item["pk"]["S"] == f"LIST#{LIST}"}
    assert f"GENERATION#{old['generation']}" in generations  # its record goes once nothing is left
    _commit(baton, load_id, parts=2)  # deletes the first two items of the one it replaces
    assert {item["pk"]["S"] for item in _items(aws)} == {f"LIST#{LIST}", f"{LIST}#{load_id}"}
    assert left(new["generation"]) == 0
