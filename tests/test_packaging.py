"""mythbot as an installed package: its version, and (slow) a wheel that answers in a fresh venv."""

import subprocess
import sys
import tomllib
from importlib import metadata

from bot import cli
from tests.conftest import PROJECT_ROOT

PYPROJECT_VERSION = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_version_is_printed_and_exits_0():
    out = subprocess.run([sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"mythbot {PYPROJECT_VERSION}\n"


def test_version_falls_back_to_pyproject_when_not_installed(monkeypatch):
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(cli.metadata, "version", not_installed)
    assert cli.package_version() == PYPROJECT_VERSION
