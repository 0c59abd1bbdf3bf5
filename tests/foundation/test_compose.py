"""docker-compose.yml is valid against the Compose specification (no Docker
engine here, so the file is checked, not run)."""

import json

import jsonschema
import yaml

from tests.support.paths import ROOT, VENDOR

SCHEMA = VENDOR / "compose-spec.json"


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_matches_the_compose_spec():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(load_compose(), schema)


def test_compose_has_the_portal_services_with_healthchecks():
    services = load_compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "flower"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "flower"):
        assert "healthcheck" in services[name], name
    # Secrets come from the environment, never from the file itself.
    assert "${SECRET_KEY" in services["web"]["environment"]["SECRET_KEY"]


def test_flower_runs_from_the_portal_image_behind_basic_auth():
    flower = load_compose()["services"]["flower"]
    assert flower["build"] == "." and flower["image"] == "secrets-portal:latest"
    assert flower["command"][:4] == ["celery", "-A", "portal", "flower"]
    assert "--port=5555" in flower["command"]
    assert flower["ports"] == ["127.0.0.1:5555:5555"]
    assert "${FLOWER_BASIC_AUTH:?" in flower["environment"]["FLOWER_BASIC_AUTH"]
    # The merged environment keeps the portal's settings (Celery reads Django's).
    assert flower["environment"]["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
