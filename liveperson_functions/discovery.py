"""Find LivePerson service hosts for an account: CSDS, static overrides, or a region table."""

import contextlib
import functools
import ipaddress
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests

from .breaker import CircuitOpen
from .core import log_exchange
from .errors import DiscoveryError as DiscoveryError  # where it has always been imported from
from .results import Call
from .transport import make_session
from .wire import PreparedRequest

if TYPE_CHECKING:
    from .breaker import Breaker

SERVICES = ("sentinel", "faasGW", "faasUI", "agentVep")
REGION_NAMES = ("apac", "emea", "us", "alpha")

# LivePerson's published hosts per region (developer docs, external-invocation pages).
# The US V2 gateway is printed as a placeholder there, so `us` on V2 still asks CSDS.
REGIONS: dict[str, dict[str, dict[str, str]]] = {
    "v1": {
        "apac": {"faasGW": "sy.faasgw.liveperson.net", "sentinel": "sy.sentinel.liveperson.net"},
        "emea": {"faasGW": "lo.faasgw.liveperson.net", "sentinel": "lo.sentinel.liveperson.net"},
        "us": {"faasGW": "va.faasgw.liveperson.net", "sentinel": "va.sentinel.liveperson.net"},
        "alpha": {
            "faasGW": "va-a.faasgw.liveperson.net",
            "sentinel": "va-a.sentinel.liveperson.net",
        },
    },
    "v2": {
        "apac": {
            "faasGW": "ause1.fninvocations.liveperson.net",
            "sentinel": "ause1.sentinel.liveperson.net",
        },
        "emea": {
            "faasGW": "euwe1.fninvocations.liveperson.net",
            "sentinel": "euwe1.sentinel.liveperson.net",
        },
        "alpha": {
            "faasGW": "staging.fninvocations.liveperson.net",
            "sentinel": "staging.sentinel.liveperson.net",
        },
    },
}


@functools.lru_cache(maxsize=256)
def is_loopback(host: str) -> bool:
    """Tell whether a bare host name or address (no port) stays on this machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(domain: str) -> str:
    """Return the host part of a bare `host[:port]` domain."""
    return urlsplit(f"//{domain}").hostname or ""


def parse_domains(text: str | None) -> dict[str, str]:
    """Parse `sentinel=host[:port],faasGW=…` into a dict; raise ValueError on a bad entry."""
    domains = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, sep, domain = item.partition("=")
        name, domain = name.strip(), domain.strip()
        if not sep or name not in SERVICES or not domain or "/" in domain:
            raise ValueError(item)
        domains[name] = domain
    return domains


class Resolver:
    """Resolve service domains for one account, caching CSDS answers for `ttl` seconds."""

    def __init__(
        self,
        account_id: str,
        csds_url: str,
        overrides: Mapping[str, str] | None = None,
        insecure_http: bool = False,
        region: str | None = None,
        platform: str | None = None,
        ttl: float = 600,
        timeout: tuple[float, float] = (5, 10),
        http: requests.Session | None = None,
        breaker: "Breaker | None" = None,
    ) -> None:
        """Find the hosts of `account_id` through CSDS at `csds_url` (cached for `ttl` s).

        overrides: `{"faasGW": "host[:port]", …}` used instead of CSDS; region: apac, emea,
        us or alpha, LivePerson's published hosts when CSDS cannot answer; insecure_http:
        plain http, to loopback hosts only (the sandbox); http: the requests session to use
        (by default one that honours HTTPS_PROXY and REQUESTS_CA_BUNDLE, as requests does).
        """
        self.account_id = account_id
        self.csds_url = csds_url.rstrip("/")
        self.overrides = dict(overrides or {})
        self.insecure_http = insecure_http
        self.region = region
        self.platform = platform
        self.ttl = ttl
        self.timeout = timeout
        self.http = http or make_session(pool_size=2)
        self.breaker = breaker
        self._cache: dict[str, str] | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def domain(self, service: str) -> str:
        """Return the bare `host[:port]` of a service, from overrides, CSDS or the region."""
        if service in self.overrides:
            return self.overrides[service]
        try:
            domains = self._csds()
        except DiscoveryError:
            fallback = self._region_domain(service)
            if fallback:
                return fallback
            raise
        if service not in domains:
            fallback = self._region_domain(service)
            if fallback:
                return fallback
            raise DiscoveryError(
                f"LivePerson's domain service (CSDS) lists no '{service}' host for account "
                f"{self.account_id}; set LP_DOMAINS={service}=host to supply it."
            )
        return domains[service]

    def base_url(self, service: str) -> str:
        """Return `scheme://host[:port]` for a service; plain http only to loopback hosts."""
        domain = self.domain(service)
        if not self.insecure_http:
            return f"https://{domain}"
        if not is_loopback(host_of(domain)):
            raise DiscoveryError(
                f"The '{service}' host {domain} is not on this machine, and LP_INSECURE_HTTP "
                "allows plain http only to loopback hosts; unset LP_INSECURE_HTTP."
            )
        return f"http://{domain}"

    def resolved(self) -> dict[str, str]:
        """Return every service domain known now, without raising; missing ones are omitted."""
        found = {}
        for service in SERVICES:
            with contextlib.suppress(DiscoveryError):
                found[service] = self.domain(service)
        return found

    def _outcome(self, ok: bool) -> None:
        if self.breaker:
            (self.breaker.success if ok else self.breaker.failure)()

    def _region_domain(self, service: str) -> str | None:
        if not self.region:
            return None
        return REGIONS.get(self.platform or "v1", {}).get(self.region, {}).get(service)

    def _csds(self) -> dict[str, str]:
        with self._lock:
            if self._cache is not None and time.monotonic() - self._fetched_at < self.ttl:
                return self._cache
            url = f"{self.csds_url}/api/account/{self.account_id}/service/baseURI.json"
            if self.breaker:
                try:
                    self.breaker.allow()
                except CircuitOpen as exc:
                    raise DiscoveryError(
                        f"LivePerson's domain service (CSDS) failed repeatedly; it is asked "
                        f"again in {exc.retry_after} s."
                    ) from exc
            started, sent = time.perf_counter(), PreparedRequest("GET", url)
            try:
                response = self.http.get(
                    url,
                    params={"version": "1.0"},
                    timeout=self.timeout,
                    allow_redirects=False,
                    headers={"Accept": "application/json"},
                )
            except requests.RequestException as exc:
                log_exchange(sent, None, started, Call("csds"))
                self._outcome(ok=False)
                raise DiscoveryError(
                    f"LivePerson's domain service (CSDS) at {self.csds_url} could not be "
                    f"reached ({type(exc).__name__}); check LP_CSDS_URL or try again later."
                ) from exc
            log_exchange(sent, response.status_code, started, Call("csds"))
            self._outcome(ok=response.status_code < 500)
            if response.status_code != 200:
                raise DiscoveryError(
                    f"LivePerson's domain service (CSDS) answered HTTP {response.status_code} "
                    f"for account {self.account_id}; check LP_ACCOUNT_ID and LP_CSDS_URL."
                )
            try:
                entries = response.json()["baseURIs"]
                domains = {
                    str(e["service"]): str(e["baseURI"]) for e in entries if e.get("baseURI")
                }
            except (ValueError, KeyError, TypeError) as exc:
                raise DiscoveryError(
                    "LivePerson's domain service (CSDS) sent an answer that is not the "
                    "expected {baseURIs: [...]} JSON; check LP_CSDS_URL."
                ) from exc
            self._cache, self._fetched_at = domains, time.monotonic()
            return domains
