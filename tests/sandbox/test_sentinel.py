"""Sentinel's user token answers in both documented shapes, and a dead bearer's refusals."""

import time

import pytest

from liveperson_functions.auth import peek
from sandbox import functions as fn
from tests.support import sandbox_log


def claims(token):
    return peek(token)[1]


@pytest.fixture
def sandbox_settings():
    return {"token_lifetime": 1}


def test_an_expired_bearer_gets_403_from_faasui_and_401_from_the_gateway(lp):
    token = lp.user_token("agent")
    assert lp.call("GET", "lambdas", token).status_code == 200
    time.sleep(1.1)
    assert lp.call("GET", "lambdas", token).status_code == 403
    assert lp.invoke(fn.GREETING, {"name": "Ana"}, token).status_code == 401


@pytest.mark.parametrize("sandbox_settings", [{"token_shape": "documented"}])
def test_the_documented_shape_has_no_expires_in_and_no_id_token_on_refresh(lp):
    answer = lp.user_tokens("agent")
    assert "expires_in" not in answer and claims(answer["id_token"])["exp"]
    refreshed = lp.refresh(answer["refresh_token"]).json()
    assert set(refreshed) == {"access_token", "token_type", "refresh_token"}


@pytest.mark.parametrize("sandbox_settings", [{"token_shape": "expires-in", "token_lifetime": 20}])
def test_the_expires_in_shape_sends_it_and_a_new_id_token_on_refresh(lp):
    answer = lp.user_tokens("agent")
    assert answer["expires_in"] == 20
    refreshed = lp.refresh(answer["refresh_token"]).json()
    assert refreshed["expires_in"] == 20
    first, second = claims(answer["id_token"]), claims(refreshed["id_token"])
    assert (second["sub"], second["aud"]) == (first["sub"], first["aud"])
    assert second["exp"] >= first["exp"]
    # Rotation: the old refresh token no longer works.
    reused = lp.refresh(answer["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert len(sandbox_log(lp.served, "token")) == 3
