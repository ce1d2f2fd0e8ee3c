"""The project's shape: the fixed layout, the deployment files, the import rule."""

import ast
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "clinic",
        "education",
        "booking",
        "templates",
        "static",
        "tests",
        "docker-compose.yml",
        "Dockerfile",
        "pyproject.toml",
        "README.md",
        "Makefile",
        ".ci/run",
        "requirements/base.lock",
        "requirements/dev.lock",
        "package-lock.json",
    ],
)
def test_layout(path):
    assert (ROOT / path).exists()


def test_education_never_imports_booking():
    for source in (ROOT / "education").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "booking" or n.startswith("booking.") for n in names), source


def test_compose_has_every_service_the_design_names():
    assert {"web", "worker", "beat", "postgres", "redis", "mailpit"} <= COMPOSE["services"].keys()


def test_long_running_compose_services_have_health_checks_and_named_volumes():
    for name, service in COMPOSE["services"].items():
        if service.get("restart") != "no":
            assert "healthcheck" in service, name
    for service in ("postgres", "redis", "mailpit", "web"):
        for volume in COMPOSE["services"][service]["volumes"]:
            assert volume.split(":")[0] in COMPOSE["volumes"]
    # Uploaded photos live in the image's MEDIA_ROOT (WORKDIR /app, default var/media).
    assert "media:/app/var/media" in COMPOSE["services"]["web"]["volumes"]


def _command_targets(command: list[str]) -> list[Path]:
    """Files in the project that a service's command relies on."""
    words = command if isinstance(command, list) else shlex.split(command)
    targets = []
    for i, word in enumerate(words):
        if word == "manage.py":
            targets.append(ROOT / "manage.py")
        if word == "-A":
            targets.append(ROOT / words[i + 1] / "celery.py")
        match = re.fullmatch(r"([a-z_]+)\.wsgi:application", word)
        if match:
            targets.append(ROOT / match.group(1) / "wsgi.py")
    return targets


@pytest.mark.parametrize("name", ["migrate", "web", "worker", "beat"])
def test_every_app_service_command_points_at_something_that_exists(name):
    service = COMPOSE["services"][name]
    assert service["build"] == "."
    targets = _command_targets(service["command"])
    assert targets, f"{name}: command names nothing in the project"
    for target in targets:
        assert target.exists(), f"{name}: {target} is missing"
    assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "clinic.settings.production"
    assert (ROOT / "clinic" / "settings" / "production.py").exists()


def test_dockerfile_installs_from_the_lock_file_and_runs_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements/base.lock" in dockerfile
    assert "npm ci" in dockerfile
    assert '"gunicorn", "clinic.wsgi:application"' in dockerfile


def test_procfile_commands_exist():
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        command = line.split(":", 1)[1].strip().removeprefix("exec ")
        for target in _command_targets(shlex.split(command)):
            assert target.exists(), line
