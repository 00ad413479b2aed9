"""Exceptions raised by the Functions client, each carrying a plain-language explanation."""

import json
import re
from typing import Any

from .catalogue import LOCAL as LOCAL_KINDS
from .catalogue import explain
from .catalogue import explain_local

# Codes meaning "the function itself failed". V1: every handler.* code. V2: the codes the Java
# client counts (the Node client counts only threw-error, which hides crashes and timeouts).
HANDLER_PREFIX = "com.liveperson.faas.handler."
V2_FUNCTION_CODES = frozenset(
    {
        "com.customer.faas.function.threw-error",
        "com.customer.faas.function.js-runtime-error",
        "com.customer.faas.function.execution-exceeded",
    }
)
FUNCTION_FAILED_STATUS = 901

_EXCERPT_CHARS = 200
_MESSAGE_CHARS = 500
_MAX_ERROR_LOGS = 50
# Tokens must never reach logs or a terminal, even when a server echoes them back.
_SECRETS = re.compile(r"(?i)\b(bearer|dpop)\s+[\w.~+/=-]{16,}|eyJ[\w-]+\.[\w-]+\.[\w-]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class DiscoveryError(Exception):
    """A LivePerson service could not be located; the message says which and why."""


class FaaSError(Exception):
    """The root of every error this client raises; `kind` names what failed.

    `may_have_run` is True only when an invocation was sent and no answer came back (a read
    timeout, a connection broken after sending, a gateway timeout): the function may have run.
    """

    kind: str
    status: int | None
    request_id: str | None
    explanation: str
    advice: str
    may_have_run: bool

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        status: int | None = None,
        request_id: str | None = None,
        explanation: str | None = None,
        advice: str | None = None,
        may_have_run: bool = False,
    ) -> None:
        super().__init__(message)
        self.message: str | None = message
        self.kind = kind
        self.status = status
        self.request_id = request_id
        self.may_have_run = may_have_run
        default = explain_local(kind) if kind in LOCAL_KINDS else explain(status, None)
        self.explanation = explanation or default[0]
        self.advice = advice or default[1]

    def as_dict(self) -> dict[str, Any]:
        """Return the error as JSON-ready data: kind, status, code, message, request id…"""
        return {
            "kind": self.kind,
            "status": self.status,
            "code": getattr(self, "code", None),
            "message": self.message,
            "request_id": self.request_id,
            "may_have_run": self.may_have_run,
            "explanation": self.explanation,
            "advice": self.advice,
        }


class FaaSInputError(FaaSError, ValueError):
    """An argument or setting is not valid; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="bad-input")


class FaaSConnectionError(FaaSError, ConnectionError):
    """No connection could be opened (nothing was sent), or it broke during the call."""


class FaaSTimeout(FaaSError, TimeoutError):
    """LivePerson did not answer within the read timeout."""


class FaaSDetailedError(FaaSError):
    """The platform rejected the call with an HTTP error status (and usually an error code)."""

    kind_name = "refused"
    status: int

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str | None,
        request_id: str | None = None,
        *,
        error_logs: list[dict[str, Any]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.code = code
        self.error_logs = list(error_logs or [])
        self.retry_after = retry_after
        explanation, advice = explain(status, code)
        label = f"HTTP {status}" + (f" {code}" if code else "")
        super().__init__(
            f"{label}: {message}" if message else label,
            kind=self.kind_name,
            status=status,
            request_id=request_id,
            explanation=explanation,
            advice=advice,
        )
        self.message = message


class FaaSLambdaError(FaaSDetailedError):
    """The function ran and failed (HTTP 901 or a handler / function error code)."""

    kind_name = "function-failed"


def sanitize(text: object, limit: int = _MESSAGE_CHARS) -> str:
    """Make server-supplied text safe to show: no tokens, no control characters, bounded."""
    text = _SECRETS.sub("[redacted]", str(text))
    text = _CONTROL.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(body: bytes | str) -> str:
    """Return a short, safe excerpt of a non-JSON (often HTML) response body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    if text.lstrip().startswith("<"):
        # Proxies and load balancers answer with HTML pages; keep only their words.
        text = re.sub(r"(?s)<(script|style).*?</\1>|<[^>]*>", " ", text)
    return sanitize(text, _EXCERPT_CHARS)


def is_function_failure(status: int, code: str | None) -> bool:
    """Tell whether a status/code pair means the function itself failed."""
    if status == FUNCTION_FAILED_STATUS:
        return True
    code = code.strip() if isinstance(code, str) else ""
    return code.startswith(HANDLER_PREFIX) or code in V2_FUNCTION_CODES


def error_from_response(
    status: int,
    body: bytes | str | None,
    request_id: str | None = None,
    retry_after: str | None = None,
) -> FaaSDetailedError:
    """Build the right FaaSDetailedError (or FaaSLambdaError) from an error response."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    code: str | None = None
    message: Any = None
    logs: list[dict[str, Any]] = []
    if isinstance(data, dict):
        if isinstance(data.get("errorCode"), str):  # V1: {errorCode, errorMsg, errorLogs?}
            code, message = data["errorCode"], data.get("errorMsg")
        elif isinstance(data.get("code"), str):  # V2: {code, message}
            code, message = data["code"], data.get("message")
        else:  # Sentinel, proxies: {error, error_description} or {message}
            message = next(
                (
                    data[key]
                    for key in ("message", "error_description", "error")
                    if isinstance(data.get(key), str)
                ),
                None,
            )
        if isinstance(data.get("errorLogs"), list):
            logs = [entry for entry in data["errorLogs"] if isinstance(entry, dict)]
    if code is not None:
        code = sanitize(code.strip(), 200) or None
    if message is not None and not isinstance(message, str):
        message = json.dumps(message)
    message = sanitize(message) if message else excerpt(text)
    cls = FaaSLambdaError if is_function_failure(status, code) else FaaSDetailedError
    return cls(
        status,
        code,
        message,
        request_id,
        error_logs=[_clean_log(entry) for entry in logs[:_MAX_ERROR_LOGS]],
        retry_after=parse_retry_after(retry_after),
    )


def parse_retry_after(value: object) -> int | None:
    """Return a Retry-After header's delay in seconds, or None if absent or a date."""
    try:
        return max(0, int(str(value).strip())) if value is not None else None
    except ValueError:
        return None


def _clean_log(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        key: sanitize(value) if isinstance(value, str) else value for key, value in entry.items()
    }
