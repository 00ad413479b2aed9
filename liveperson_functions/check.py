"""Try a real account without invoking anything: its hosts, and how Sentinel's token endpoint
wants the client authenticated.

The token endpoint is sent a made-up authorization code with each client authentication
method. Client authentication comes before the code is looked at (RFC 6749 §5.2), so
`invalid_grant` (or `unauthorized_client` for an app without that grant) means the client was
authenticated, and `invalid_client` or HTTP 401 means it was not. No code is spent and no
token is issued.
"""

import json
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import requests

from .discovery import DiscoveryError

TIMEOUT = (5, 10)
METHODS = {"basic": "HTTP Basic (Authorization header)", "post": "form body (client_secret)"}
AUTHENTICATED = {"invalid_grant", "unauthorized_client"}
CHECKED_SERVICES = ("sentinel", "faasGW", "faasUI")


@dataclass(frozen=True)
class Finding:
    """One result: ✓ (ok), ✗ (not ok, with the fix), or information (ok is None)."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""


def token_url(resolver, account_id):
    """Return Sentinel's user token endpoint for the account."""
    base = resolver.base_url("sentinel")
    return f"{base}/sentinel/api/account/{quote(str(account_id), safe='')}/token?v=2.0"


def probe(session, url, client_id, client_secret, method, redirect_uri=None):
    """Send a made-up code with one client authentication method; return verdict, status, error."""
    data = {"grant_type": "authorization_code", "code": f"check-{secrets.token_hex(16)}"}
    if redirect_uri:
        data["redirect_uri"] = redirect_uri
    auth = (client_id, client_secret) if method == "basic" else None
    if method == "post":
        data.update(client_id=client_id, client_secret=client_secret)
    response = session.post(
        url,
        data=data,
        auth=auth,
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    try:
        error = json.loads(response.content[:65536]).get("error")
    except (ValueError, AttributeError):
        error = None
    if error in AUTHENTICATED:
        return "accepted", response.status_code, error
    if error == "invalid_client" or response.status_code == 401:
        return "refused", response.status_code, error
    if response.status_code == 200:
        return "issued", response.status_code, error
    return "unclear", response.status_code, error


def client_auth_findings(session, url, client_id, client_secret, redirect_uri=None):
    """Probe both methods and say which one to use, with the fix."""
    findings, verdicts = [], {}
    for method, label in METHODS.items():
        name = f"Sentinel token endpoint: {label}"
        try:
            verdict, status, error = probe(
                session, url, client_id, client_secret, method, redirect_uri
            )
        except requests.RequestException as exc:
            findings.append(
                Finding(
                    name,
                    False,
                    f"Sentinel could not be reached ({type(exc).__name__}).",
                    "Check the network path to Sentinel, LP_DOMAINS or LP_CSDS_URL.",
                )
            )
            continue
        verdicts[method] = verdict
        answer = f"HTTP {status}" + (f" {error}" if error else "")
        if verdict == "accepted":
            detail = f"client authenticated ({answer} for the made-up code)"
            findings.append(Finding(name, True, detail))
        elif verdict == "refused":
            # Not a fault by itself: the summary below says whether any method works.
            findings.append(Finding(name, None, f"client not authenticated ({answer})"))
        elif verdict == "issued":
            findings.append(
                Finding(
                    name,
                    False,
                    f"Sentinel issued a token for a made-up code ({answer}).",
                    "This is not LivePerson's Sentinel: check LP_DOMAINS and LP_CSDS_URL.",
                )
            )
        else:
            findings.append(Finding(name, None, f"neither accepted nor refused ({answer})"))
    findings.append(advice(verdicts))
    return findings


def advice(verdicts):
    """Sum the probes up: which client authentication to use."""
    name = "Client authentication to use"
    basic, post = verdicts.get("basic"), verdicts.get("post")
    if basic == "accepted":
        detail = "HTTP Basic, the default (Functions' authorization-code guide)."
        return Finding(name, True, detail)
    if post == "accepted":
        return Finding(
            name,
            True,
            "the form body: Sentinel refused HTTP Basic here.",
            "Nothing is needed (the app falls back by itself after one refused call); set "
            "LP_TOKEN_AUTH=post to skip that call.",
        )
    if basic == post == "refused":
        return Finding(
            name,
            False,
            "Sentinel authenticated the client with neither method.",
            "Check that LP_CLIENT_ID and LP_CLIENT_SECRET are those of an app installed on "
            "this account (LP_ACCOUNT_ID).",
        )
    return Finding(name, None, "The answers do not tell; see the lines above.")


def host_findings(resolver, services=CHECKED_SERVICES):
    """Resolve each service the app needs; return findings and whether Sentinel resolved."""
    findings = []
    for service in services:
        try:
            findings.append(Finding(f"Host of {service}", True, resolver.domain(service)))
        except DiscoveryError as exc:
            fix = "Check LP_ACCOUNT_ID and LP_CSDS_URL, or set LP_DOMAINS for this service."
            findings.append(Finding(f"Host of {service}", False, str(exc), fix))
    return findings, findings[0].ok


def try_account(resolver, account_id, client_id, client_secret, session, redirect_uri=None):
    """Resolve the hosts, then learn which client authentication Sentinel accepts."""
    findings, resolved = host_findings(resolver)
    if not resolved:
        return findings
    url = token_url(resolver, account_id)
    return findings + client_auth_findings(session, url, client_id, client_secret, redirect_uri)
