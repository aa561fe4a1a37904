"""The Lambda asset is bundled on this machine by pip for the Lambda platform, without Docker."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.lambda_asset import WHEELHOUSE, LocalPipBundling, pip_install_command


def test_pip_installs_the_lock_as_linux_wheels_for_python313(tmp_path: Path) -> None:
    command = pip_install_command(tmp_path / "out", wheelhouse=tmp_path / "missing")

    assert " ".join(command).count("--platform manylinux2014_x86_64") == 1
    assert {"--only-binary=:all:", "--require-hashes"} <= set(command)
    assert command[command.index("--python-version") + 1] == "3.13"
    assert command[command.index("--target") + 1] == str(tmp_path / "out")


def test_pip_stays_offline_when_the_wheelhouse_exists(tmp_path: Path) -> None:
    command = pip_install_command(tmp_path / "out", wheelhouse=tmp_path)

    assert "--no-index" in command
    assert command[command.index("--find-links") + 1] == str(tmp_path)


@pytest.mark.skipif(not WHEELHOUSE.is_dir(), reason="needs `make lambda-wheels` (make test runs it)")
def test_local_bundling_yields_linux_binaries_and_the_baton_package(tmp_path: Path) -> None:
    # given the offline wheelhouse, when the asset is bundled, then it holds Linux wheels and baton
    bundled = LocalPipBundling().try_bundle(str(tmp_path))

    assert bundled is True
    assert list((tmp_path / "pydantic_core").glob("*.cpython-313-x86_64-linux-gnu.so"))
    assert (tmp_path / "baton" / "settings.py").is_file()
    assert not list((tmp_path / "baton").rglob("__pycache__"))
