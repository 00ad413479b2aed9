"""The wire format, written once: URLs, the V1 and V2 dialects, request bodies, answer shapes."""

import json
import platform as pyplatform
import time
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal
from typing import TypedDict
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

# Like requests and httpx: the library's name and version, then the Python it runs on.
USER_AGENT = f"liveperson-functions/{__version__} python/{pyplatform.python_version()}"
DEFAULT_EVENT_SOURCE = "Unknown"
# The official clients treat an account as Functions V2 when its host name says so.
V2_MARKERS = ("fninvocations", "functions")


@dataclass(frozen=True)
class PreparedRequest:
    """One call as it goes on the wire, without its Authorization header."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None

    @property
    def full_url(self) -> str:
        """The URL with its query string."""
        return self.url + ("?" + urlencode(self.params) if self.params else "")

    def body(self) -> bytes | None:
        """The JSON body as bytes, or None for a call without one."""
        return None if self.json is None else json.dumps(self.json, allow_nan=False).encode()


class FunctionInfo(TypedDict):
    """One function of `list_functions()`: a V1 lambda or a V2 function, in one shape."""

    uuid: str | None
    name: str | None
    description: str
    state: str | None
    eventId: str | None
    skills: list[Any]
    samplePayload: Any
    createdBy: str | None
    createdAt: Any
    updatedBy: str | None
    updatedAt: Any
    platform: str


Headers = Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[Mapping[str, str]]
Platform = Literal["v1", "v2"]


def platform_for(domain: str, configured: str | None = None) -> str:
    """Return the configured platform, else the one a gateway host name implies."""
    if configured:
        return configured
    return "v2" if any(marker in domain.lower() for marker in V2_MARKERS) else "v1"


def prepare(
    method: str,
    base_url: str,
    account_id: str,
    segments: Sequence[object],
    *,
    params: Iterable[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    request_id: str | None = None,
    user_agent: str = USER_AGENT,
) -> PreparedRequest:
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
    method: str,
    base_url: str,
    account_id: str,
    segments: Sequence[object],
    *,
    platform: str,
    event_source: str,
    skill_id: str | None = None,
    user_id: str | None = None,
    **kw: Any,
) -> PreparedRequest:
    """Return a gateway request: V1 names the event source in the query, V2 in a header."""
    params: list[tuple[str, str]]
    headers: dict[str, str]
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
    account_id: str,
    target: str,
    payload: Any = None,
    *,
    base_url: str,
    platform: str,
    event: bool = False,
    headers: Headers | None = None,
    skill_id: str | int | None = None,
    user_id: str | None = None,
    event_source: str = DEFAULT_EVENT_SOURCE,
    request_id: str | None = None,
    timestamp: float | None = None,
    user_agent: str = USER_AGENT,
) -> PreparedRequest:
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


def invoked(target: object, event: bool) -> tuple[str, str]:
    """Return the path segments naming what an invocation runs: a function, or an event's."""
    return ("events", check_event(target)) if event else ("lambdas", check_uuid(target))


def invocation_body(
    payload: Any, headers: Headers | None, timestamp: float | None = None
) -> dict[str, Any]:
    """Build `{timestamp, headers: [{key, value}], payload}` as the official clients do."""
    pairs = _header_pairs(headers)
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


def _header_pairs(headers: object) -> list[tuple[str, str]]:
    """Read headers given as a dict, (key, value) pairs or {key, value} dicts; else refuse."""
    refusal = FaaSInputError(
        "headers must map strings to strings: a dict, (key, value) pairs or "
        f"{{'key': …, 'value': …}} dicts, not {headers!r}"[:300]
    )
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        pairs = list(headers.items())
    elif isinstance(headers, str | bytes) or not isinstance(headers, Iterable):
        raise refusal
    else:
        pairs = []
        for item in headers:
            if isinstance(item, Mapping):
                pairs.append((item.get("key"), item.get("value")))
            elif isinstance(item, tuple | list) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                raise refusal
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise refusal
    return pairs


def parse(raw: bytes | None) -> Any:
    """Return the body as JSON, as raw text when it is not JSON, or None when it is empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def split_logs(data: Any) -> tuple[Any, list[Any]]:
    """Separate `{result, logs}` answers (test invocations) into result and logs."""
    wrapped = isinstance(data, dict) and data.keys() == {"result", "logs"}
    if wrapped and isinstance(data["logs"], list):
        return data["result"], data["logs"]
    return data, []


def normalise(item: Mapping[str, Any], platform: str) -> FunctionInfo:
    """Map a V1 lambda or a V2 function to one shape."""

    def text(key: str) -> str | None:
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
