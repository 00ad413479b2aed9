"""A session key holding garbage, non-dict JSON or pickle bytes is no session: no code runs."""

import pickle

import pytest

from app.sessions import KEY_PREFIX
from tests.app.test_store import Boom
from tests.app.test_store import planted

RAW = [b"garbage\xff", b"1", b"[1, 2]", pickle.dumps(Boom())]


@pytest.fixture
def app_overrides(either_store):
    return either_store


@pytest.mark.parametrize("raw", RAW, ids=["garbage", "int", "list", "pickle"])
def test_planted_session_reads_as_signed_out(app, browser, raw):
    browser.sign_in(app.url)
    sid = browser.cookies.get("invoker_session")
    planted(app.app.extensions["store"], KEY_PREFIX + sid, raw)
    page = browser.get(f"{app.url}/")
    assert page.status_code == 200
    assert "Sign in with LivePerson" in page.text
