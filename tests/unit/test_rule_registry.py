"""The rule registry stays true to the code: every break still finds its code, every test named
exists and carries its rule's id, every rule cited in the code is registered, and the README's
table is the registry's."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from infra.cli import main
from infra.rules import RULES, Rule, Status, as_markdown, readme_table, with_table

ROOT = Path(__file__).resolve().parents[2]
RULE_ID = re.compile(r"\bR-[A-Z]+-\d+\b")


@cache
def _test_names(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    )


def test_the_registry_holds_each_rule_once_with_jurisdictions_and_where() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids)) == 45
    for rule in RULES:
        assert RULE_ID.fullmatch(rule.id), rule.id
        assert rule.title, rule.id
        assert rule.jurisdictions, rule.id
        assert rule.where, rule.id
        if rule.status is not Status.ENFORCED:
            assert rule.operator, f"{rule.id} is {rule.status}: say what is left and why"


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.status is not Status.OPERATOR], ids=lambda rule: rule.id
)
def test_every_rule_code_can_check_has_a_test_named_by_its_id_and_a_break(rule: Rule) -> None:
    assert rule.tests, f"{rule.id} has no test"
    assert rule.breaks, f"{rule.id} has no break to prove its tests can fail"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_each_listed_test_exists_and_is_named_with_the_rules_id(rule: Rule) -> None:
    for node_id in rule.tests:
        path, _, name = node_id.partition("::")
        assert (ROOT / path).is_file(), node_id
        assert name in _test_names(path), f"{node_id} does not exist"
        assert rule.test_name in name, f"{node_id} is not named with {rule.id}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_each_break_finds_its_code_exactly_once(rule: Rule) -> None:
    for break_ in rule.breaks:
        text = (ROOT / break_.path).read_text(encoding="utf-8")
        assert text.count(break_.old) == 1, (
            f"{rule.id}: {break_.path} holds {break_.old!r} {text.count(break_.old)} times"
        )
        assert break_.old != break_.new


def test_every_rule_cited_in_the_code_is_registered() -> None:
    cited = set()
    for folder in ("functions", "infra"):
        for path in (ROOT / folder).rglob("*.py"):
            cited |= set(RULE_ID.findall(path.read_text(encoding="utf-8")))
    registered = {rule.id for rule in RULES}
    assert cited - registered == set()


def test_the_readme_table_is_the_registrys() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table(readme) == as_markdown(), "run `baton rules --readme README.md`"


def test_writing_the_table_into_a_readme_keeps_the_rest(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Title\n\n<!-- rules:start -->\nold\n<!-- rules:end -->\n\nAfter.\n", encoding="utf-8"
    )

    assert main(["rules", "--readme", str(readme)]) == 0

    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\n<!-- rules:start -->\n")
    assert text.endswith("<!-- rules:end -->\n\nAfter.\n")
    assert readme_table(text) == as_markdown()
    assert with_table(text) == text


def test_baton_rules_prints_every_rule_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert all(rule.id in out for rule in RULES)
    assert out.strip().splitlines()[-1].startswith("45 rules: ")


def test_baton_rules_json_is_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["rules", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert [rule["id"] for rule in rules] == [rule.id for rule in RULES]
    assert all({"status", "where", "tests", "breaks", "jurisdictions"} <= rule.keys() for rule in rules)
