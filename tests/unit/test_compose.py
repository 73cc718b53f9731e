"""docker-compose.yml is a valid Compose file describing the leadroi stack.

Validated against the vendored Compose Specification schema
(tests/data/compose-spec.json, see compose-spec.SOURCE), so no Docker is needed.
"""

import copy
import json
from pathlib import Path

import pytest
import yaml
from jsonschema.validators import validator_for

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((DATA / "compose-spec.json").read_text())
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def errors(validator, document) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_compose_file_matches_spec(validator, compose):
    assert errors(validator, compose) == []


def test_broken_compose_file_is_rejected(validator, compose):
    broken = copy.deepcopy(compose)
    broken["services"]["kafka"]["ports"] = 9092  # must be a list
    broken["services"]["redis"]["restart_policy"] = "always"  # no such key
    found = errors(validator, broken)
    assert any(e.startswith("services/kafka/ports") for e in found), found
    assert any(e.startswith("services/redis") for e in found), found


def test_stack_services_and_wiring(compose):
    services = compose["services"]
    assert set(services) == {"kafka", "redis", "tracker", "worker", "api"}
    assert services["kafka"]["image"] == "apache/kafka:4.1.2"
    assert services["redis"]["image"] == "redis:7"
    for name, command in [
        ("tracker", "leadroi tracker"),
        ("worker", "leadroi worker"),
        ("api", "leadroi api"),
    ]:
        service = services[name]
        assert service["build"] == "."
        assert service["command"] == command
        assert service["environment"]["LEADROI_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert service["environment"]["LEADROI_REDIS_URL"] == "redis://redis:6379/0"
    assert "8080:8080" in services["tracker"]["ports"]
    assert "8081:8081" in services["api"]["ports"]
