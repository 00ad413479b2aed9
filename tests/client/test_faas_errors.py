"""The error classes, their parsing of V1/V2/non-JSON bodies, and the catalogue behind them."""

import json

import pytest

from liveperson_functions import catalogue
from liveperson_functions.errors import FaaSDetailedError
from liveperson_functions.errors import FaaSError
from liveperson_functions.errors import FaaSLambdaError
from liveperson_functions.errors import error_from_response

from .fakes import ACCOUNT
from .fakes import FN_UUID
from .fakes import Reply
from .fakes import make_jwt

INVOKE = f"/api/account/{ACCOUNT}/lambdas/{FN_UUID}/invoke"

V1_CODES = [
    "com.liveperson.faas.es.general",
    "com.liveperson.faas.es.unavailable",
    "com.liveperson.faas.es.badinput",
    "com.liveperson.faas.es.notdeployed",
    "com.liveperson.faas.es.missinglambda",
    "com.liveperson.faas.handler.custom-failure",
    "com.liveperson.faas.handler.runtime-exception",
    "com.liveperson.faas.handler.executiontime-exceeded",
    "com.liveperson.faas.handler.log-limit-reached",
    "com.liveperson.faas.fm.general",
    "com.liveperson.faas.fm.unavailable",
]
V2_CODES = [
    "com.liveperson.faas.evg.general",
    "com.liveperson.faas.evg.invalid",
    "com.customer.faas.function.threw-error",
    "com.customer.faas.function.js-runtime-error",
    "com.customer.faas.function.execution-exceeded",
    "com.liveperson.faas.function.not-found",
    "com.liveperson.faas.function.runtime.limit-reached",
    "com.liveperson.faas.self-service.pending",
]
HANDLER_CODES = [code for code in V1_CODES if ".handler." in code]
V2_FUNCTION_CODES = V2_CODES[2:5]
STATUSES = [400, 401, 403, 404, 405, 408, 429, 500, 502, 503, 504, 901]


def test_error_hierarchy():
    assert issubclass(FaaSDetailedError, FaaSError)
    assert issubclass(FaaSLambdaError, FaaSDetailedError)


@pytest.mark.parametrize("code", V1_CODES + V2_CODES)
def test_every_documented_code_has_its_own_explanation(code):
    explanation, advice = catalogue.explain(500, code)
    assert (explanation, advice) == catalogue.CODES[code]
    assert (explanation, advice) != catalogue.explain(500, None)
    assert explanation.endswith(".") and advice.endswith(".")


@pytest.mark.parametrize("status", STATUSES)
def test_every_documented_status_has_its_own_explanation(status):
    explanation, advice = catalogue.explain(status, None)
    assert (explanation, advice) == catalogue.STATUSES[status]
    assert explanation and advice


def test_the_not_found_flavours_are_told_apart():
    texts = {
        catalogue.explain(404, code)[0]
        for code in (
            "com.liveperson.faas.es.missinglambda",
            "com.liveperson.faas.es.notdeployed",
            "com.liveperson.faas.function.not-found",
            None,
        )
    }
    assert len(texts) == 4
    assert "not deployed" in catalogue.explain(404, "com.liveperson.faas.es.notdeployed")[0]


def test_403_names_the_missing_permission():
    explanation, advice = catalogue.explain(403, None)
    assert "FaaS-Invocation" in explanation and "FaaS-Invocation" in advice


@pytest.mark.parametrize(
    ("operation", "principal", "named"),
    [
        ("invoke", "user", "needs the FaaS-Invocation or FaaS-Developer permission"),
        ("invoke_event", "user", "FaaS-Admin may read functions but not invoke them"),
        ("list_functions", "user", "FaaS-Invocation, FaaS-Developer or FaaS-Admin permission"),
        ("is_implemented", "user", "may not read"),
        ("invoke", "app", "faas.lambda.invoke scope"),
        ("list_functions", "app", "does not let app tokens (client credentials) list"),
    ],
)
def test_a_403_is_explained_by_what_was_refused(operation, principal, named):
    assert named in catalogue.explain_forbidden(operation, principal)[0]


def test_codes_with_a_trailing_tab_still_match():
    code = "com.liveperson.faas.handler.log-limit-reached\t"
    assert catalogue.explain(901, code) == catalogue.CODES[code.strip()]


def test_unknown_codes_fall_back_to_the_status_then_its_class():
    assert catalogue.explain(429, "com.example.unknown") == catalogue.STATUSES[429]
    assert catalogue.explain(418, None)[0] == "LivePerson rejected the request."
    assert "server error" in catalogue.explain(599, None)[0]


def test_v1_body_is_parsed():
    exc = error_from_response(
        404,
        b'{"errorCode":"com.liveperson.faas.es.missinglambda","errorMsg":"There is no x"}',
        "rid-1",
    )
    assert type(exc) is FaaSDetailedError
    assert (exc.status, exc.code, exc.message, exc.request_id) == (
        404,
        "com.liveperson.faas.es.missinglambda",
        "There is no x",
        "rid-1",
    )
    assert exc.explanation == catalogue.CODES["com.liveperson.faas.es.missinglambda"][0]
    assert str(exc) == "HTTP 404 com.liveperson.faas.es.missinglambda: There is no x"


def test_v2_body_is_parsed():
    exc = error_from_response(
        404, b'{"code":"com.liveperson.faas.function.not-found","message":"gone"}'
    )
    assert type(exc) is FaaSDetailedError
    assert (exc.code, exc.message) == ("com.liveperson.faas.function.not-found", "gone")


@pytest.mark.parametrize("code", HANDLER_CODES)
def test_901_with_each_handler_code_is_a_lambda_error(code):
    body = {
        "errorCode": code,
        "errorMsg": "boom",
        "errorLogs": [{"level": "Error", "message": "x"}],
    }
    exc = error_from_response(901, json.dumps(body).encode())
    assert isinstance(exc, FaaSLambdaError)
    assert exc.code == code
    assert exc.explanation == catalogue.CODES[code][0]
    assert exc.error_logs == [{"level": "Error", "message": "x"}]


@pytest.mark.parametrize("code", V2_FUNCTION_CODES)
def test_v2_function_codes_are_lambda_errors_even_without_901(code):
    exc = error_from_response(500, f'{{"code":"{code}","message":"m"}}'.encode())
    assert isinstance(exc, FaaSLambdaError)


def test_901_without_a_known_code_is_still_a_lambda_error():
    exc = error_from_response(901, b"<html>oops</html>")
    assert isinstance(exc, FaaSLambdaError)
    assert exc.code is None
    assert exc.explanation == catalogue.STATUSES[901][0]


@pytest.mark.parametrize(
    "code",
    [c for c in V1_CODES + V2_CODES if c not in HANDLER_CODES + V2_FUNCTION_CODES],
)
def test_platform_codes_are_not_lambda_errors(code):
    exc = error_from_response(500, f'{{"code":"{code}","message":"m"}}'.encode())
    assert type(exc) is FaaSDetailedError


def test_non_json_body_gives_a_short_safe_excerpt():
    token = make_jwt({"sub": "secret"})
    body = (
        "<html><head><style>p{}</style></head><body><h1>502 Bad Gateway</h1>"
        f"<p>token {token} Bearer abcdefghijklmnopqrstuvwxyz \x1b[31m</p>" + "x" * 5000
    ).encode()
    exc = error_from_response(502, body)
    assert type(exc) is FaaSDetailedError
    assert exc.status == 502
    assert exc.code is None
    assert exc.message.startswith("502 Bad Gateway")
    assert len(exc.message) <= 200
    assert token not in str(exc) and "abcdefghijklmnop" not in str(exc)
    assert "<" not in exc.message and "\x1b" not in exc.message
    assert exc.explanation == catalogue.STATUSES[502][0]


def test_other_json_error_bodies_use_their_message():
    exc = error_from_response(401, b'{"error":"invalid_token","error_description":"expired"}')
    assert exc.message == "expired"
    exc = error_from_response(429, b'{"message":"slow down"}', retry_after="12")
    assert (exc.message, exc.retry_after) == ("slow down", 12)


def test_transport_errors_carry_local_explanations():
    exc = FaaSError("x", kind="read-timeout")
    assert "may or may not have run" in exc.explanation
    assert exc.advice


@pytest.mark.parametrize(
    ("reply", "cls", "code"),
    [
        (
            Reply(404, {"errorCode": "com.liveperson.faas.es.missinglambda", "errorMsg": "no"}),
            FaaSDetailedError,
            "com.liveperson.faas.es.missinglambda",
        ),
        (
            Reply(404, {"errorCode": "com.liveperson.faas.es.notdeployed", "errorMsg": "no"}),
            FaaSDetailedError,
            "com.liveperson.faas.es.notdeployed",
        ),
        (
            Reply(404, {"code": "com.liveperson.faas.function.not-found", "message": "no"}),
            FaaSDetailedError,
            "com.liveperson.faas.function.not-found",
        ),
        (Reply(403, b"Forbidden"), FaaSDetailedError, None),
        (Reply(405, b""), FaaSDetailedError, None),
        (Reply(408, b""), FaaSDetailedError, None),
        (
            Reply(400, {"errorCode": "com.liveperson.faas.es.badinput", "errorMsg": "bad"}),
            FaaSDetailedError,
            "com.liveperson.faas.es.badinput",
        ),
        (
            Reply(
                901,
                {"errorCode": "com.liveperson.faas.handler.runtime-exception", "errorMsg": "x"},
            ),
            FaaSLambdaError,
            "com.liveperson.faas.handler.runtime-exception",
        ),
        (
            Reply(901, {"code": "com.customer.faas.function.threw-error", "message": "x"}),
            FaaSLambdaError,
            "com.customer.faas.function.threw-error",
        ),
    ],
)
def test_gateway_errors_end_to_end(fake, make_client, reply, cls, code):
    fake.reply("POST", INVOKE, reply)
    with pytest.raises(FaaSDetailedError) as caught:
        make_client(fake.domain).invoke(FN_UUID, {}, request_id="rid-9")
    exc = caught.value
    assert type(exc) is cls
    assert (exc.status, exc.code, exc.request_id) == (reply.status, code, "rid-9")
    if reply.status == 403:  # the operation names the permission it needs
        assert exc.explanation == catalogue.explain_forbidden("invoke", "user")[0]
    else:
        assert exc.explanation == catalogue.explain(reply.status, code)[0]
    assert len(fake.requests_to(INVOKE)) == 1  # never retried
