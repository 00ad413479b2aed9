"""The wire format, written once: URLs, the V1 and V2 dialects, request bodies, answer shapes."""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from urllib.parse import urlencode

from . import __version__
from .errors import FaaSInputError
from .inputs import check_event
from .inputs import check_event_source
from .inputs import check_platform
from .inputs import check_request_id
from .inputs import check_skill
from .inputs import check_user_id
from .inputs import check_uuid

USER_AGENT = f"functions-invoker/{__version__}"
DEFAULT_EVENT_SOURCE = "Unknown"
# The official clients treat an account as Functions V2 when its host name says so.
V2_MARKERS = ("fninvocations", "functions")


@dataclass(frozen=True)
class PreparedRequest:
    """One call as it goes on the wire, without its Authorization header."""

    method: str
    url: str
    params: tuple = ()
    headers: Mapping = None
    json: Any = None

    @property
    def full_url(self):
        """The URL with its query string."""
        return self.url + ("?" + urlencode(self.params) if self.params else "")

    def body(self):
        """The JSON body as bytes, or None for a call without one."""
        return None if self.json is None else json.dumps(self.json, allow_nan=False).encode()


def platform_for(domain, configured=None):
    """Return the configured platform, else the one a gateway host name implies."""
    if configured:
        return configured
    return "v2" if any(marker in domain.lower() for marker in V2_MARKERS) else "v1"


def prepare(
    method,
    base_url,
    account_id,
    segments,
    *,
    params=(),
    headers=None,
    body=None,
    request_id=None,
    user_agent=USER_AGENT,
):
    """Return the request for `base_url/api/account/{account}/{segments…}`."""
    path = "/".join(quote(str(part), safe="") for part in ("api", "account", account_id))
    path += "/" + "/".join(quote(str(part), safe="") for part in segments)
    sent = {"X-Request-ID": request_id} if request_id else {}
    sent.update({"Content-Type": "application/json", "Accept": "application/json"})
    sent["User-Agent"] = user_agent
    return PreparedRequest(
        method, f"{base_url}/{path}", tuple(params), sent | dict(headers or {}), body
    )


def prepare_gateway(
    method,
    base_url,
    account_id,
    segments,
    *,
    platform,
    event_source,
    skill_id=None,
    user_id=None,
    **kw,
):
    """Return a gateway request: V1 names the event source in the query, V2 in a header."""
    if platform == "v1":
        params, headers = [("v", "1"), ("externalSystem", event_source)], {}
    else:
        params, headers = [], {"LP-EventSource": event_source}
    if user_id is not None:
        params.append(("userId", user_id))
    if skill_id is not None:
        params.append(("skillId", skill_id))
    return prepare(method, base_url, account_id, segments, params=params, headers=headers, **kw)


def prepare_invoke(
    account_id,
    target,
    payload=None,
    *,
    base_url,
    platform,
    event=False,
    headers=None,
    skill_id=None,
    user_id=None,
    event_source=DEFAULT_EVENT_SOURCE,
    request_id=None,
    timestamp=None,
    user_agent=USER_AGENT,
):
    """Return the POST that invokes function `target` (or event `target` when `event`)."""
    return prepare_gateway(
        "POST",
        base_url,
        account_id,
        (*invoked(target, event), "invoke"),
        platform=check_platform(platform) or "v1",
        event_source=check_event_source(event_source),
        skill_id=check_skill(skill_id),
        user_id=check_user_id(user_id),
        request_id=check_request_id(request_id),
        user_agent=user_agent,
        body=invocation_body(payload, headers, timestamp),
    )


def invoked(target, event):
    """Return the path segments naming what an invocation runs: a function, or an event's."""
    return ("events", check_event(target)) if event else ("lambdas", check_uuid(target))


def invocation_body(payload, headers, timestamp=None):
    """Build `{timestamp, headers: [{key, value}], payload}` as the official clients do."""
    if headers is None:
        pairs = []
    elif isinstance(headers, Mapping):
        pairs = list(headers.items())
    else:
        pairs = [
            (h.get("key"), h.get("value")) if isinstance(h, Mapping) else tuple(h) for h in headers
        ]
    if not all(len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str) for p in pairs):
        raise FaaSInputError("headers must map strings to strings")
    body = {
        "timestamp": int(time.time() * 1000) if timestamp is None else int(timestamp),
        "headers": [{"key": key, "value": value} for key, value in pairs],
        # The Java client sends {} for a missing payload; the gateway rejects null.
        "payload": {} if payload is None else payload,
    }
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise FaaSInputError(f"payload is not JSON-serialisable: {exc}") from exc
    return body


def parse(raw):
    """Return the body as JSON, as raw text when it is not JSON, or None when it is empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def split_logs(data):
    """Separate `{result, logs}` answers (test invocations) into result and logs."""
    wrapped = isinstance(data, dict) and data.keys() == {"result", "logs"}
    if wrapped and isinstance(data["logs"], list):
        return data["result"], data["logs"]
    return data, []


def normalise(item, platform):
    """Map a V1 lambda or a V2 function to one shape."""

    def text(key):
        value = item.get(key)
        return None if value is None else str(value)

    skills = item.get("skills")
    return {
        "uuid": text("uuid"),
        "name": text("name"),
        "description": item.get("description") or "",
        "state": text("state"),
        "eventId": text("eventId"),
        "skills": list(skills) if isinstance(skills, list) else [],
        "samplePayload": item.get("samplePayload"),
        "createdBy": text("createdBy"),
        "createdAt": item.get("createdAt"),
        "updatedBy": text("updatedBy"),
        "updatedAt": item.get("updatedAt"),
        "platform": platform,
    }
