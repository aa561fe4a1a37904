"""A whole customer's story at DEBUG: not one line the process writes holds their data or links."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("log_scenario.py")


def test_no_log_line_of_a_full_story_at_debug_holds_personal_data_or_a_link_token(
    synthesized_template: dict[str, Any], tmp_path: Path
) -> None:
    template, personal = tmp_path / "template.json", tmp_path / "personal.json"
    template.write_text(json.dumps(synthesized_template))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)]),
        # Every switch that makes Powertools print more: DEBUG lines (its own too), the event, dev mode.
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "POWERTOOLS_LOGGER_LOG_EVENT": "true",
        "POWERTOOLS_DEV": "true",
        "POWERTOOLS_DEBUG": "true",
    }

    # Given the story (sign-up, confirmation, YES, free text, HELP, a journey's email and SMS,
    # a bounce, bad requests, the preference page, a forged link, unsubscribe, STOP, erasure)
    done = subprocess.run(  # noqa: S603 (this interpreter, this repository's script)
        [sys.executable, str(SCENARIO), str(template), str(personal)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    used = json.loads(personal.read_text())
    assert len(used["tokens"]) >= 3  # confirm, preferences and unsubscribe links were followed
    # Then none of what the person gave, nor any link they were sent, is in the output
    folded = output.casefold()
    leaks = [value for value in used["personal"] + used["tokens"] if value.casefold() in folded]
    leaks += [part for token in used["tokens"] for part in token.split(".") if part.casefold() in folded]
    leaking = [line for line in output.splitlines() if any(v.casefold() in line.casefold() for v in leaks)]
    assert not leaks, leaking[:20]
    # and the lines are still useful: what happened, to which route, by keyword and count.
    assert "POST /v1/subscriptions 202" in output
    assert "GET /v1/confirm/{token} 200" in output
    assert "Inbound SMS handled" in output
    assert "Rejected token" in output
