"""Start-up refuses a missing or inconsistent setting with one sentence naming it."""

import pytest

from app import ConfigError
from app import create_app
from sandbox import ACCOUNT_ID

REAL = {
    "LP_ACCOUNT_ID": "90412079",
    "LP_CLIENT_ID": "client",
    "LP_CLIENT_SECRET": "secret",
    "LP_REDIRECT_URI": "https://invoker.example.com/callback",
    "SECRET_KEY": "k" * 32,
}


def make(tmp_path, **settings):
    return create_app(settings, instance_path=str(tmp_path))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(REAL) + ["LP_CSDS_URL", "LP_DOMAINS", "LP_INSECURE_HTTP", "SESSION_BACKEND"]:
        monkeypatch.delenv(name, raising=False)


def test_sandbox_mode_needs_nothing(tmp_path):
    app = make(tmp_path)
    assert app.config["SANDBOX_MODE"]
    assert app.config["LP_ACCOUNT_ID"] == ACCOUNT_ID
    assert app.config["LP_CSDS_URL"] == "http://localhost:8001"
    assert app.config["LP_REDIRECT_URI"] == "http://127.0.0.1:8000/callback"


def test_sandbox_secret_key_is_shared_by_every_worker(tmp_path):
    assert make(tmp_path).secret_key == make(tmp_path).secret_key
    assert len(make(tmp_path).secret_key) >= 32


def test_real_account_settings(tmp_path):
    app = make(tmp_path, **REAL)
    assert not app.config["SANDBOX_MODE"]
    assert app.config["LP_CSDS_URL"] == "https://api.liveperson.net"
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-invoker"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_REFRESH_EACH_REQUEST"] is False
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600
    assert app.config["LP_TOKEN_AUTH"] is None  # learned, Basic first
    assert make(tmp_path, **REAL, LP_TOKEN_AUTH="POST").config["LP_TOKEN_AUTH"] == "post"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"LP_CLIENT_SECRET": ""}, "LP_CLIENT_SECRET is not set"),
        ({"LP_REDIRECT_URI": ""}, "LP_REDIRECT_URI is not set"),
        ({"LP_REDIRECT_URI": "invoker/callback"}, "LP_REDIRECT_URI must be an absolute URL"),
        ({"LP_REDIRECT_URI": "http://invoker.example.com/cb"}, "LP_REDIRECT_URI uses plain http"),
        ({"LP_INSECURE_HTTP": "1"}, "LP_INSECURE_HTTP=1 would send tokens in clear text"),
        ({"LP_INSECURE_HTTP": "maybe"}, "LP_INSECURE_HTTP must be 1 or 0"),
        ({"LP_CSDS_URL": "http://csds.example.com"}, "LP_CSDS_URL uses plain http"),
        ({"LP_DOMAINS": "sentinel"}, "LP_DOMAINS has a bad entry"),
        ({"LP_DOMAINS": "nosuch=host"}, "LP_DOMAINS has a bad entry"),
        ({"SESSION_BACKEND": "memory"}, "SESSION_BACKEND must be filesystem or redis"),
        ({"SESSION_BACKEND": "redis"}, "SESSION_BACKEND=redis needs REDIS_URL"),
        ({"LP_IDLE_TIMEOUT": "soon"}, "LP_IDLE_TIMEOUT must be a whole number"),
        ({"LP_REGION": "mars"}, "LP_REGION must be one of"),
        ({"LP_TOKEN_AUTH": "header"}, "LP_TOKEN_AUTH must be basic or post"),
        ({"AUDIT_DAYS": "0"}, "AUDIT_DAYS must be a whole number of days"),
        ({"AUDIT_PAYLOADS": "maybe"}, "AUDIT_PAYLOADS must be 1 or 0"),
    ],
)
def test_bad_settings_stop_start_up(tmp_path, change, named):
    with pytest.raises(ConfigError, match=named):
        make(tmp_path, **{**REAL, **change})


def test_client_without_account_is_inconsistent(tmp_path):
    with pytest.raises(ConfigError, match="LP_ACCOUNT_ID is not"):
        make(tmp_path, LP_CLIENT_ID="client")


def test_insecure_http_to_loopback_is_allowed(tmp_path):
    app = make(
        tmp_path,
        **{
            **REAL,
            "LP_REDIRECT_URI": "http://127.0.0.1:8000/callback",
            "LP_CSDS_URL": "http://127.0.0.1:9",
            "LP_DOMAINS": "sentinel=localhost:8001,faasGW=[::1]:8002",
            "LP_INSECURE_HTTP": "1",
        },
    )
    assert app.config["LP_DOMAINS"]["faasGW"] == "[::1]:8002"


def test_environment_is_read_at_create_app(tmp_path, monkeypatch):
    monkeypatch.setenv("LP_ACCOUNT_ID", "90412079")
    with pytest.raises(ConfigError, match="LP_CLIENT_ID is not set"):
        make(tmp_path)
