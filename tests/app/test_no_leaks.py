"""No token, code or client secret in any response body, header or log line of a whole run."""

import logging

from sandbox import functions as demo
from tests.support import expire_token
from tests.support import sandbox_log
from tests.support import token_record


def test_a_whole_run_leaks_nothing(app, sandbox, browser, caplog):
    caplog.set_level(logging.DEBUG)
    responses = []

    def keep(response):
        responses.extend([*response.history, response])
        return response

    keep(browser.sign_in(app.url))
    secrets = {"client secret": "sandbox-secret"}
    first = token_record(app, browser)
    secrets.update(
        access=first["access_token"], refresh=first["refresh_token"], id=first["id_token"]
    )
    secrets["code"] = sandbox_log(sandbox, "token")[0]["code"]
    secrets["verifier"] = sandbox_log(sandbox, "token")[0]["code_verifier"]

    page = keep(browser.get(f"{app.url}/functions/{demo.ECHO}"))
    keep(browser.form_post(page, {"payload": '{"a": 1}'}, action=f"/functions/{demo.ECHO}"))
    expire_token(app, browser)
    keep(browser.get(f"{app.url}/"))
    second = token_record(app, browser)
    assert second["refresh_token"] != first["refresh_token"]  # the refresh really happened
    secrets.update(access2=second["access_token"], refresh2=second["refresh_token"])
    keep(browser.get(f"{app.url}/history"))
    keep(browser.form_post(browser.get(f"{app.url}/"), {}, action="/logout"))

    # Left out: the harness's werkzeug servers log raw URLs (under gunicorn the app's own
    # request line is the only one, checked in test_gunicorn), and authlib's *server* grants log
    # what the sandbox issues. Everything the app and its client libraries log is checked.
    # Also left out: this test's own HTTP client logging the URLs it fetched from the app.
    outside = ("werkzeug", "authlib.oauth2.rfc6749", "authlib.oauth2.rfc7009")
    lines = [
        r.getMessage()
        for r in caplog.records
        if not r.name.startswith(outside)
        and not (r.name.startswith("urllib3") and str(app.port) in str(r.args))
    ]
    assert any(line.startswith("request client=") for line in lines)
    assert any(line.startswith("upstream op=invoke") for line in lines)
    # What the app sent back. The callback URL itself carries the code: that is the protocol.
    ours = [r for r in responses if r.url.startswith(app.url)]
    seen = [r.text + str(r.headers) for r in ours] + lines
    for name, secret in secrets.items():
        found = [text[:300] for text in seen if secret in text]
        assert secret and not found, (name, found)
