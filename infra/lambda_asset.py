"""The Lambda code asset: `functions/baton`, the `journeys/` catalog and requirements/lambda.lock,
bundled without Docker.

The asset is built on this machine by pip for the Lambda platform (manylinux2014 x86_64,
CPython 3.13, wheels only), so synth works without Docker. After `make lambda-wheels` the
wheels come from `.tools/lambda-wheels` with `--no-index`: synth then needs no network.
With bundling skipped (`aws:cdk:bundling-stacks` = []) the asset is the source folder as is
(without the catalog: the local stack points BATON_JOURNEYS_DIR at the repository's).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra import names

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
PACKAGE = "baton"
JOURNEYS_DIR = ROOT / "journeys"
LAMBDA_LOCK = ROOT / "requirements" / "lambda.lock"
WHEELHOUSE = ROOT / ".tools" / "lambda-wheels"

# The platform the wheels are chosen for: must match the runtime and architecture of every function.
PIP_PLATFORM = ("--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.13")
# Only used if a machine with Docker but without pip ever bundles; never pulled here.
_BUILD_IMAGE = "public.ecr.aws/sam/build-python3.13"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")


class BundlingError(RuntimeError):
    """pip could not build the Lambda dependencies."""


def _pip() -> list[str]:
    """The project's bootstrap pip (.tools, made by `make setup`), else this interpreter's."""
    tools_pip = ROOT / ".tools" / "bin" / "pip"
    if tools_pip.exists():
        return [str(tools_pip)]
    return [sys.executable, "-m", "pip"]


def pip_install_command(
    target: Path, *, lock: Path = LAMBDA_LOCK, wheelhouse: Path = WHEELHOUSE
) -> list[str]:
    """`pip install` of the lock for the Lambda platform; offline when the wheelhouse exists."""
    source = ["--no-index", "--find-links", str(wheelhouse)] if wheelhouse.is_dir() else []
    return [
        *_pip(),
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        *PIP_PLATFORM,
        "--only-binary=:all:",
        "--require-hashes",
        *source,
        "--requirement",
        str(lock),
    ]


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """Bundles on this machine: pip installs the lock, then `baton` and the catalog are copied in."""

    def __init__(self, journeys_dir: Path = JOURNEYS_DIR) -> None:
        self._journeys_dir = journeys_dir

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        target = Path(output_dir)
        command = pip_install_command(target)
        completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if completed.returncode != 0:
            raise BundlingError(
                f"pip could not install {LAMBDA_LOCK.name} for the Lambda platform "
                f"(run `make lambda-wheels` for an offline wheelhouse):\n{completed.stderr}"
            )
        # Console scripts (with this machine's shebangs) are of no use in Lambda.
        shutil.rmtree(target / "bin", ignore_errors=True)
        shutil.copytree(FUNCTIONS_DIR / PACKAGE, target / PACKAGE, ignore=_IGNORED, dirs_exist_ok=True)
        # The journeys and templates ship with the code, loaded once per cold start.
        if self._journeys_dir.is_dir():
            shutil.copytree(
                self._journeys_dir, target / names.ASSET_JOURNEYS_DIR, ignore=_IGNORED, dirs_exist_ok=True
            )
        return True


def lambda_code(journeys_dir: Path = JOURNEYS_DIR) -> lambda_.AssetCode:
    """One asset for every function. Create it once per stack and share it (one bundling run)."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        # Hash the bundle, not the source: a change to lambda.lock must change the asset too.
        asset_hash_type=AssetHashType.OUTPUT,
        exclude=["**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache"],
        bundling=BundlingOptions(
            image=DockerImage.from_registry(_BUILD_IMAGE),
            local=LocalPipBundling(journeys_dir),
        ),
    )
