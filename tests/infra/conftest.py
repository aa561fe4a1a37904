"""One synth (bundling off, so no pip and no network) shared by every infra test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from infra.synth import synthesize


@pytest.fixture(scope="session")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk.out")


@pytest.fixture(scope="session")
def template_json(cloud_assembly: Path) -> dict[str, Any]:
    return synthesize(cloud_assembly, bundling=False)


@pytest.fixture(scope="session")
def template(template_json: dict[str, Any]) -> assertions.Template:
    return assertions.Template.from_json(template_json)
