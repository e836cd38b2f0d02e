"""mythbot as an installed package: its version, and (slow) a wheel that answers in a fresh venv."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

from bot import cli
from tests.conftest import PROJECT_ROOT

PYPROJECT_VERSION = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
KNOWLEDGE_SUFFIXES = (".yaml", ".yml")
INSTALL_TIMEOUT = 900  # seconds; a cold pip cache downloads every dependency
# The module fixture builds and installs the wheel inside the first test's time: allow for the download.
pytestmark = pytest.mark.timeout(INSTALL_TIMEOUT + 120)


def test_version_is_printed_and_exits_0():
    out = subprocess.run([sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"mythbot {PYPROJECT_VERSION}\n"


def test_version_falls_back_to_pyproject_when_not_installed(monkeypatch):
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(cli.metadata, "version", not_installed)
    assert cli.package_version() == PYPROJECT_VERSION


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    cwd: Path
    env: dict[str, str]

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.venv / "bin" / program), *args], capture_output=True, text=True,
                              cwd=self.cwd, env=self.env, timeout=120)


def run_checked(*command: object, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    out = subprocess.run([str(part) for part in command], capture_output=True, text=True, cwd=cwd, env=env,
                         timeout=INSTALL_TIMEOUT)
    assert out.returncode == 0, f"{' '.join(map(str, command))} failed:\n{out.stdout}\n{out.stderr}"


def tracked_files() -> list[str]:
    """The working tree as it would be committed: tracked and new files, without ignored ones."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=PROJECT_ROOT, capture_output=True, check=True).stdout.decode()
    return [name for name in listing.split("\0") if name and (PROJECT_ROOT / name).is_file()]


def outside_env() -> dict[str, str]:
    """The environment of a user who never set anything up for mythbot (and no path back into this repo)."""
    dropped = {"PYTHONPATH", "VIRTUAL_ENV", "DISCORD_TOKEN"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("MYTHBOT_")}
    return env | {"MYTHBOT_SEMANTIC": "false"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    """The working tree built into a wheel and installed, with its dependencies, into a fresh venv."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "src"
    # Build from a copy: an in-tree build leaves build/ behind, whose stale files would leak into later wheels.
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, source / name)
    env = outside_env()
    run_checked(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", root / "dist", source,
                env=env)
    (wheel,) = (root / "dist").glob("mythbot-*.whl")
    venv = root / "venv"
    run_checked(sys.executable, "-m", "venv", venv, env=env)
    run_checked(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel,
                env=env)
    cwd = root / "elsewhere"
    cwd.mkdir()
    return Installed(wheel, venv, cwd, env)


@pytest.mark.slow
def test_the_wheel_carries_the_curated_knowledge_and_package_data(installed):
    with zipfile.ZipFile(installed.wheel) as wheel:
        shipped = {name: wheel.read(name) for name in wheel.namelist()}
    for name in tracked_files():
        path = Path(name)
        if path.parts[0] == "knowledge" and (path.suffix in KNOWLEDGE_SUFFIXES or path.name == "schema.json"):
            packaged = Path("bot", "_knowledge", *path.parts[1:]).as_posix()
            assert shipped.get(packaged) == (PROJECT_ROOT / path).read_bytes(), f"{name} is not shipped as {packaged}"
        elif path.parts[0] == "bot":  # code and its package data (migrations, word lists...)
            assert name in shipped, f"{name} is not in the wheel: declare it in [tool.setuptools.package-data]"


@pytest.mark.slow
def test_installed_mythbot_reports_its_version(installed):
    out = installed.run("mythbot", "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"mythbot {PYPROJECT_VERSION}\n"


@pytest.mark.slow
def test_installed_mythbot_answers_from_the_packaged_knowledge(installed):
    where = installed.run("python", "-c", "from bot.settings import Settings; print(Settings().knowledge_dir)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout
    data = str(installed.cwd / "data")
    out = installed.run("mythbot", "--data", data, "ask", "will squats fix my hip dips", "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["status"] == "answer" and answer["entry"] == "squats-hip-dips"
    assert answer["sources"], "the bibliography did not ship"


@pytest.mark.slow
def test_installing_never_pulls_torch(installed):
    out = installed.run("python", "-m", "pip", "list", "--format=json", "--disable-pip-version-check")
    names = {package["name"].lower() for package in json.loads(out.stdout)}
    assert not {name for name in names if name == "torch" or name.startswith("nvidia-")}, sorted(names)
