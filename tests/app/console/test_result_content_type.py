"""The result names the gateway's response content type, as the gateway sent it."""

from sandbox import functions as demo
from tests.support import calls
from tests.support import visible_text


def test_result_shows_the_gateways_content_type(app, sandbox, browser):
    browser.sign_in(app.url)
    page = browser.get(f"{app.url}/functions/{demo.GREETING}")
    result = browser.form_post(
        page, {"payload": '{"name": "Ana"}'}, action=page.url[len(app.url) :]
    )
    assert "/history/" in result.url and calls(sandbox, "invoke") == 1
    assert "Content type application/json" in visible_text(result)
    # Kept with the entry: reopening the result shows it, and asks the gateway nothing.
    assert "Content type application/json" in visible_text(browser.get(result.url))
    assert calls(sandbox, "invoke") == 1
