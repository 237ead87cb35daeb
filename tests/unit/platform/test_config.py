import pytest
from pydantic import ValidationError

from worksample.config import DEV_SECRET, Settings


def test_production_refuses_default_secret(monkeypatch):
    monkeypatch.setenv("WORKSAMPLE_ENV", "production")
    monkeypatch.delenv("WORKSAMPLE_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="WORKSAMPLE_SECRET_KEY must be set"):
        Settings()


def test_production_accepts_a_real_secret(monkeypatch):
    monkeypatch.setenv("WORKSAMPLE_ENV", "production")
    monkeypatch.setenv("WORKSAMPLE_SECRET_KEY", "s3cret-from-the-vault")
    assert Settings().secret_key != DEV_SECRET


def test_default_database_is_sqlite_under_the_data_dir(data_dir, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{data_dir / 'worksample.db'}"


def test_conventional_names_are_read(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/ws")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql://db.example/ws"
    assert settings.redis_url == "redis://127.0.0.1:1/0"
