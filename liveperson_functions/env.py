"""The LP_* environment variables: parsed here once, for `from_env()`, the CLI and the web app."""

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

import requests

from .auth import ClientCredentials
from .auth import UserBearer
from .client import FunctionsClient
from .discovery import REGION_NAMES
from .discovery import Resolver
from .discovery import parse_domains
from .errors import FaaSInputError
from .inputs import PLATFORMS
from .transport import make_session

if TYPE_CHECKING:
    from .aio import AsyncFunctionsClient

DEFAULT_CSDS_URL = "https://api.liveperson.net"
# The local sandbox (`python -m sandbox`): its account, address and M2M app.
SANDBOX_ACCOUNT = "12345678"
SANDBOX_URL = "http://localhost:8001"
SANDBOX_APP = ("sandbox-m2m", "sandbox-m2m-secret")
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def parse_flag(name: str, value: object, default: str = "0") -> bool:
    """Read a yes/no variable; raise FaaSInputError naming it when it is neither."""
    text = str(default if value is None else value).strip().lower()
    if text not in TRUE | FALSE:
        raise FaaSInputError(
            f"{name} must be 1 or 0 (got {text!r}); set it to 1 to enable, 0 to disable."
        )
    return text in TRUE


def parse_region(value: str | None) -> str | None:
    """Read LP_REGION: one of LivePerson's regions, or None."""
    region = (value or "").strip() or None
    if region not in (None, *REGION_NAMES):
        raise FaaSInputError(
            f"LP_REGION must be one of {', '.join(REGION_NAMES)} (got {region!r})."
        )
    return region


def parse_platform(value: str | None) -> str | None:
    """Read LP_PLATFORM: v1, v2, or None to tell from the gateway's host name."""
    platform = (value or "").strip().lower() or None
    if platform not in (None, *PLATFORMS):
        raise FaaSInputError(f"LP_PLATFORM must be v1 or v2 (got {platform!r}).")
    return platform


def parse_lp_domains(value: str | None) -> dict[str, str]:
    """Read LP_DOMAINS: `sentinel=host[:port],faasGW=…`."""
    try:
        return parse_domains(value)
    except ValueError as exc:
        raise FaaSInputError(
            f"LP_DOMAINS has a bad entry {str(exc)!r}: write service=host[:port] pairs "
            "separated by commas, for the services sentinel, faasGW, faasUI and agentVep."
        ) from None


def from_env(
    env: Mapping[str, str] | None = None,
    *,
    verify: bool | str | None = None,
    proxies: Mapping[str, str] | None = None,
    trust_env: bool = True,
    **options: Any,
) -> FunctionsClient:
    """Build a FunctionsClient from LP_* variables, or for the local sandbox without them.

    LP_ACCOUNT_ID, LP_CSDS_URL, LP_DOMAINS, LP_REGION, LP_PLATFORM, LP_INSECURE_HTTP, and
    either LP_CLIENT_ID + LP_CLIENT_SECRET (an app) or LP_BEARER (a user's token). Without
    LP_ACCOUNT_ID it talks to the sandbox at SANDBOX_URL. `verify`, `proxies` and `trust_env`
    apply to every call (CSDS and Sentinel too); `options` go to FunctionsClient. Close the
    client when done: it owns one connection pool for every service.
    """
    # One session for CSDS, Sentinel and the gateway, closed with the client.
    session = make_session(trust_env=trust_env, verify=verify, proxies=proxies)
    try:
        account, resolver, auth, platform = _parts(env, session)
        client = FunctionsClient(
            account, auth, resolver, platform=platform, session=session, **options
        )
    except Exception:
        session.close()
        raise
    client._owns_session = True  # the pool was made here for this client alone
    return client


def async_from_env(
    env: Mapping[str, str] | None = None,
    *,
    verify: bool | str | None = None,
    proxies: Mapping[str, str] | None = None,
    trust_env: bool = True,
    **options: Any,
) -> "AsyncFunctionsClient":
    """Build an AsyncFunctionsClient as `from_env` builds a FunctionsClient (needs httpx)."""
    from .aio import AsyncFunctionsClient

    # CSDS is asked through requests (rarely: cached for 10 minutes), the rest through httpx.
    session = make_session(pool_size=2, trust_env=trust_env, verify=verify, proxies=proxies)
    try:
        account, resolver, auth, platform = _parts(env, session)
        client = AsyncFunctionsClient(
            account,
            auth,
            resolver,
            platform=platform,
            verify=verify,
            proxies=proxies,
            trust_env=trust_env,
            **options,
        )
    except Exception:
        session.close()
        raise
    client.on_close(session.close)
    return client


def _parts(
    env: Mapping[str, str] | None, session: requests.Session
) -> tuple[str, Resolver, UserBearer | ClientCredentials, str | None]:
    """Read the LP_* variables: the account, its resolver, the auth and the platform."""
    env = os.environ if env is None else env
    account = (env.get("LP_ACCOUNT_ID") or "").strip()
    domains = parse_lp_domains(env.get("LP_DOMAINS"))
    platform = parse_platform(env.get("LP_PLATFORM"))
    bearer = (env.get("LP_BEARER") or "").strip()
    if not account:
        account, credentials = SANDBOX_ACCOUNT, SANDBOX_APP
        csds_url, insecure, region = env.get("SANDBOX_URL") or SANDBOX_URL, True, None
    else:
        csds_url = env.get("LP_CSDS_URL") or DEFAULT_CSDS_URL
        insecure = parse_flag("LP_INSECURE_HTTP", env.get("LP_INSECURE_HTTP"))
        region = parse_region(env.get("LP_REGION"))
        credentials = (env.get("LP_CLIENT_ID") or "", env.get("LP_CLIENT_SECRET") or "")
        if not bearer and not all(credentials):
            raise FaaSInputError(
                "Set LP_CLIENT_ID and LP_CLIENT_SECRET (an M2M app installed on the "
                "account) or LP_BEARER (a user's access token)."
            )
    resolver = Resolver(
        account,
        csds_url,
        overrides=domains,
        insecure_http=insecure,
        region=region,
        platform=platform,
        http=session,
    )
    auth: UserBearer | ClientCredentials
    if bearer:
        auth = UserBearer(lambda: bearer)
    else:
        auth = ClientCredentials(*credentials, resolver, account, session=session)
    return account, resolver, auth, platform
