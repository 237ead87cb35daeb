import pytest
from fastapi.testclient import TestClient

from worksample.config import get_settings
from worksample.db import migrate
from worksample.web import create_app


@pytest.fixture
def client(data_dir, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    migrate()
    with TestClient(create_app()) as c:
        yield c


@pytest.mark.redis
@pytest.mark.docker
def test_healthz_ok_with_real_services(client, redis_url):
    resp = client.get("/healthz")
    assert resp.json() == {"ok": True, "database": "ok", "redis": "ok", "docker": "ok"}
    assert resp.status_code == 200


def test_healthz_names_what_is_down(client, monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", f"unix://{tmp_path}/nothing.sock")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nodocker.sock")
    get_settings.cache_clear()
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 503
    assert body["database"] == "ok"
    assert "Redis is not reachable" in body["redis"] and "nothing.sock" in body["redis"]
    assert "Docker engine not reachable" in body["docker"] and "nodocker.sock" in body["docker"]


def test_healthz_reports_an_unmigrated_database(data_dir, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{data_dir / 'empty.db'}")
    get_settings.cache_clear()
    with TestClient(create_app()) as c:
        body = c.get("/healthz").json()
    assert "not migrated" in body["database"] or "unreachable" in body["database"]
