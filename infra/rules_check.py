"""Break each rule on purpose and watch its tests fail: `python -m infra.rules_check [RULE-ID ...]`.

For every break of the registry (`infra.rules`), in a throwaway copy of the project's tracked
files: apply the break, run that rule's tests, restore the file. A break under which every test
of its rule still passes is reported: those tests cannot catch the rule's code being removed.
Exit 1 when any break goes unnoticed, or a rule's tests fail with nothing broken.

Not part of `make test`: it runs each rule's tests once per break (minutes). `make rules-check`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.rules import RULES, Break, Rule

ROOT = Path(__file__).resolve().parent.parent
# Not tracked but needed by the tests: the CDK CLI and the Lambda wheels the bundling reads.
_LINKED = (Path("infra/node/node_modules"), Path(".tools"))


@dataclass(frozen=True, slots=True)
class Outcome:
    rule: str
    break_: Break | None  # None: the rule's tests with nothing broken
    failed: bool
    summary: str


def _copy_project(into: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 (git from PATH, as make has it)
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for linked in _LINKED:
        if (ROOT / linked).exists():
            (into / linked).parent.mkdir(parents=True, exist_ok=True)
            (into / linked).symlink_to(ROOT / linked)


def _run_tests(copy: Path, tests: Sequence[str]) -> tuple[bool, str]:
    """(whether any test failed, pytest's last line)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(  # noqa: S603 (this interpreter, test ids from the registry)
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--maxfail=1", *tests],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return result.returncode != 0, (lines[-1] if lines else result.stderr.strip()[-200:])


def check_rule(copy: Path, rule: Rule) -> list[Outcome]:
    if not rule.tests:
        return []
    outcomes = []
    failed, summary = _run_tests(copy, rule.tests)
    outcomes.append(Outcome(rule.id, None, failed, summary))
    for break_ in rule.breaks:
        path = copy / break_.path
        original = path.read_text(encoding="utf-8")
        path.write_text(original.replace(break_.old, break_.new, 1), encoding="utf-8")
        try:
            failed, summary = _run_tests(copy, rule.tests)
        finally:
            path.write_text(original, encoding="utf-8")
        outcomes.append(Outcome(rule.id, break_, failed, summary))
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.rules_check", description=__doc__.splitlines()[0])
    parser.add_argument("rules", nargs="*", help="rule ids to check (default: every rule)")
    args = parser.parse_args(argv)
    wanted = {rule_id.upper() for rule_id in args.rules}
    rules = [rule for rule in RULES if not wanted or rule.id in wanted]
    unnoticed = broken_baseline = 0
    with tempfile.TemporaryDirectory(prefix="baton-rules-") as folder:
        copy = Path(folder)
        _copy_project(copy)
        for rule in rules:
            for outcome in check_rule(copy, rule):
                if outcome.break_ is None:
                    state = "FAILS UNBROKEN" if outcome.failed else "green"
                    broken_baseline += outcome.failed
                    print(
                        f"{rule.id:12} {len(rule.tests)} tests, nothing broken: {state} ({outcome.summary})"
                    )
                    continue
                where = f"{outcome.break_.path}: {outcome.break_.old.strip().splitlines()[0][:60]}"
                state = "caught" if outcome.failed else "NOT CAUGHT"
                unnoticed += not outcome.failed
                print(f"{rule.id:12}   break {where}: {state}", flush=True)
    breaks = sum(len(rule.breaks) for rule in rules if rule.tests)
    print(
        f"{len(rules)} rules, {breaks} breaks: {breaks - unnoticed} caught, {unnoticed} not caught;"
        f" {broken_baseline} rules whose tests fail with nothing broken"
    )
    return 1 if unnoticed or broken_baseline else 0


if __name__ == "__main__":
    sys.exit(main())
