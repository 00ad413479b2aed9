"""Every setting, read from the environment in one place and checked before start-up."""

import ipaddress
import os
import secrets
from urllib.parse import urlsplit

from liveperson_functions.discovery import host_of
from liveperson_functions.discovery import is_loopback
from liveperson_functions.env import SANDBOX_ACCOUNT
from liveperson_functions.env import SANDBOX_URL
from liveperson_functions.env import parse_flag
from liveperson_functions.env import parse_lp_domains
from liveperson_functions.env import parse_platform
from liveperson_functions.env import parse_region
from liveperson_functions.errors import FaaSInputError

SANDBOX_CLIENT = ("functions-invoker", "sandbox-secret")
SANDBOX_APP_CLIENT = ("sandbox-m2m", "sandbox-m2m-secret")
SANDBOX_REDIRECT_URI = "http://127.0.0.1:8000/callback"
# The names a browser on this machine uses for a sandbox-mode app (Werkzeug cannot match IPv6).
LOOPBACK_NAMES = ("localhost", "127.0.0.1")
# The app's upstream calls ignore HTTPS_PROXY, REQUESTS_CA_BUNDLE and the like (the client
# library honours them by default): a server's hosts are its LP_* settings, not whatever a
# shell exported, and scanning the environment costs ~0.35 ms per call.
UPSTREAM_TRUST_ENV = False
# The app's token in the User-Agent, after the client library's own.
USER_AGENT_TOKEN = "functions-invoker"


class ConfigError(Exception):
    """A missing or inconsistent setting; the message names the variable and the fix."""


# A setting's kind, declared once with its name: a secret is never shown or logged; a URL is
# shown with any password in it masked; anything else is shown as it is.
PLAIN, SECRET, URL = "plain", "secret", "url"
# The configuration table's variables (README), read by name from the environment.
SETTINGS = {
    "LP_ACCOUNT_ID": PLAIN,
    "LP_CLIENT_ID": PLAIN,
    "LP_CLIENT_SECRET": SECRET,
    "LP_REDIRECT_URI": URL,
    "LP_CSDS_URL": URL,
    "LP_DOMAINS": PLAIN,
    "LP_INSECURE_HTTP": PLAIN,
    "LP_PKCE": PLAIN,
    "LP_TOKEN_AUTH": PLAIN,
    "LP_REGION": PLAIN,
    "LP_PLATFORM": PLAIN,
    "LP_IDLE_TIMEOUT": PLAIN,
    "LP_MAX_SESSION": PLAIN,
    "SECRET_KEY": SECRET,
    "SESSION_BACKEND": PLAIN,
    "REDIS_URL": URL,
    "SANDBOX_URL": URL,
    "TRUSTED_HOSTS": PLAIN,
    "LP_PROXY_HOPS": PLAIN,
    "LOG_LEVEL": PLAIN,
    "LP_DEMO_MODE": PLAIN,
    "METRICS_ALLOW": PLAIN,
    "METRICS_TOKEN": SECRET,
    "METRICS_FUNCTION_LABELS": PLAIN,
    "LP_APP_CLIENT_ID": PLAIN,
    "LP_APP_CLIENT_SECRET": SECRET,
}
NAMES = tuple(SETTINGS)
MASK = "••••"


def url_password(value):
    """Return the password inside a URL such as redis://:pw@host/0, or None."""
    try:
        return urlsplit(str(value)).password
    except ValueError:
        return None


def shown(name, value):
    """Show a setting's effective value for people, every secret masked."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    kind = SETTINGS.get(name, SECRET)  # a name not in the table is treated as secret
    if kind == SECRET:
        return f"{MASK} ({len(str(value))} characters)"
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    password = url_password(value) if kind == URL else None
    return str(value).replace(f":{password}@", f":{MASK}@") if password else str(value)


def secret_values(config):
    """Return every secret a setting holds (whole secrets, passwords inside URLs), to mask."""
    found = set()
    for name, kind in SETTINGS.items():
        value = config.get(name)
        if kind == SECRET and value:
            found.add(str(value))
        elif kind == URL and value and url_password(value):
            found.add(url_password(value))
    return found


def from_environ(environ):
    """Return the raw settings: each variable of the configuration table, as given."""
    return {name: environ[name] for name in NAMES if environ.get(name, "") != ""}


def flag(config, name, default):
    """Read a yes/no setting."""
    try:
        return parse_flag(name, config.get(name), default)
    except FaaSInputError as exc:
        raise ConfigError(str(exc)) from None


def seconds(config, name, default):
    """Read a duration in seconds."""
    value = str(config.get(name, default)).strip()
    if not value.isdigit() or int(value) <= 0:
        raise ConfigError(f"{name} must be a whole number of seconds (got {value!r}).")
    return int(value)


def finalize(config, instance_path):
    """Derive and check every setting in `config` (a Flask config), raising ConfigError."""
    config["SANDBOX_MODE"] = sandbox = not config.get("LP_ACCOUNT_ID")
    if sandbox:
        if config.get("LP_CLIENT_ID") or config.get("LP_CLIENT_SECRET"):
            raise ConfigError(
                "LP_CLIENT_ID or LP_CLIENT_SECRET is set but LP_ACCOUNT_ID is not: set "
                "LP_ACCOUNT_ID to your LivePerson account id, or unset both to use the sandbox."
            )
        config.setdefault("SANDBOX_URL", SANDBOX_URL)
        config["LP_ACCOUNT_ID"] = SANDBOX_ACCOUNT
        config["LP_CLIENT_ID"], config["LP_CLIENT_SECRET"] = SANDBOX_CLIENT
        config.setdefault("LP_REDIRECT_URI", SANDBOX_REDIRECT_URI)
        config.setdefault("LP_CSDS_URL", config["SANDBOX_URL"])
        config.setdefault("LP_INSECURE_HTTP", "1")
        config["SECRET_KEY"] = config.get("SECRET_KEY") or instance_secret_key(instance_path)
        if not config.get("LP_APP_CLIENT_ID") and not config.get("LP_APP_CLIENT_SECRET"):
            config["LP_APP_CLIENT_ID"], config["LP_APP_CLIENT_SECRET"] = SANDBOX_APP_CLIENT
    if bool(config.get("LP_APP_CLIENT_ID")) != bool(config.get("LP_APP_CLIENT_SECRET")):
        raise ConfigError(
            "LP_APP_CLIENT_ID and LP_APP_CLIENT_SECRET go together: set both (an app installed "
            "with the client_credentials grant) or neither."
        )
    for name, fix in (
        ("LP_CLIENT_ID", "the client id of your LivePerson app installation"),
        ("LP_CLIENT_SECRET", "the client secret of your LivePerson app installation"),
        ("LP_REDIRECT_URI", "the exact callback URL registered for your LivePerson app"),
        ("SECRET_KEY", "a long random string, the same on every worker and host"),
    ):
        if not config.get(name):
            raise ConfigError(f"{name} is not set: set it to {fix}.")
    config.setdefault("LP_CSDS_URL", "https://api.liveperson.net")
    config["LP_INSECURE_HTTP"] = flag(config, "LP_INSECURE_HTTP", "0")
    config["LP_PKCE"] = flag(config, "LP_PKCE", "1")
    auth = str(config.get("LP_TOKEN_AUTH") or "").strip().lower() or None
    if auth not in (None, "basic", "post"):
        raise ConfigError(
            f"LP_TOKEN_AUTH must be basic or post (got {auth!r}); unset it to let the app "
            "learn which one Sentinel accepts."
        )
    config["LP_TOKEN_AUTH"] = auth
    config["LP_DEMO_MODE"] = flag(config, "LP_DEMO_MODE", "1" if sandbox else "0")
    config["LP_IDLE_TIMEOUT"] = seconds(config, "LP_IDLE_TIMEOUT", 1800)
    config["LP_MAX_SESSION"] = seconds(config, "LP_MAX_SESSION", 12 * 3600)
    check_urls(config)
    check_region(config)
    check_store(config)
    check_proxy(config)
    check_metrics(config)
    https = urlsplit(config["LP_REDIRECT_URI"]).scheme == "https"
    config.update(
        SESSION_COOKIE_NAME="__Host-invoker" if https else "invoker_session",
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=config["LP_MAX_SESSION"],
        # Above the 256 KB payload cap with room for the form; larger bodies get a 413.
        MAX_CONTENT_LENGTH=1024 * 1024,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        # A CSRF token lives as long as its session, which has its own idle and absolute limits.
        WTF_CSRF_TIME_LIMIT=None,
    )


def check_urls(config):
    """Check the redirect URI, the CSDS URL and the static domains against LP_INSECURE_HTTP."""
    redirect = urlsplit(config["LP_REDIRECT_URI"])
    if redirect.scheme not in ("https", "http") or not redirect.hostname or redirect.fragment:
        raise ConfigError(
            "LP_REDIRECT_URI must be an absolute URL such as https://invoker.example.com/callback."
        )
    if redirect.scheme == "http" and not is_loopback(redirect.hostname):
        raise ConfigError(
            "LP_REDIRECT_URI uses plain http on a public host: use https, as LivePerson "
            "requires, or a loopback host for local use."
        )
    csds = urlsplit(config["LP_CSDS_URL"])
    if csds.scheme not in ("https", "http") or not csds.hostname:
        raise ConfigError("LP_CSDS_URL must be a URL such as https://api.liveperson.net.")
    try:
        config["LP_DOMAINS"] = parse_lp_domains(config.get("LP_DOMAINS", ""))
    except FaaSInputError as exc:
        raise ConfigError(str(exc)) from None
    hosts = [csds.hostname] + [host_of(d) for d in config["LP_DOMAINS"].values()]
    if config["LP_INSECURE_HTTP"]:
        remote = [h for h in hosts if not is_loopback(h)]
        if remote:
            raise ConfigError(
                f"LP_INSECURE_HTTP=1 would send tokens in clear text to {remote[0]}: plain "
                "http is allowed only to loopback hosts; unset LP_INSECURE_HTTP."
            )
    elif csds.scheme == "http":
        raise ConfigError(
            "LP_CSDS_URL uses plain http: use https, or set LP_INSECURE_HTTP=1 for a "
            "loopback sandbox."
        )


def check_region(config):
    """Check LP_REGION and LP_PLATFORM against the values LivePerson documents."""
    try:
        config["LP_REGION"] = parse_region(config.get("LP_REGION"))
        config["LP_PLATFORM"] = parse_platform(config.get("LP_PLATFORM"))
    except FaaSInputError as exc:
        raise ConfigError(str(exc)) from None


def check_proxy(config):
    """Read TRUSTED_HOSTS, LP_PROXY_HOPS and LOG_LEVEL."""
    hosts = config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):
        hosts = [h.strip() for h in hosts.split(",") if h.strip()]
    if not hosts:
        # Never any Host: Werkzeug builds absolute redirects (/admin//check → 308) from it.
        hosts = [urlsplit(config["LP_REDIRECT_URI"]).hostname]
        if config["SANDBOX_MODE"]:
            hosts += [h for h in LOOPBACK_NAMES if h not in hosts]
    config["TRUSTED_HOSTS"] = list(hosts)
    hops = str(config.get("LP_PROXY_HOPS", "0")).strip()
    if not hops.isdigit():
        raise ConfigError(
            f"LP_PROXY_HOPS must be the number of proxies in front of the app (got {hops!r})."
        )
    config["LP_PROXY_HOPS"] = int(hops)
    level = str(config.get("LOG_LEVEL", "INFO")).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got {level!r}).")
    config["LOG_LEVEL"] = level


def check_metrics(config):
    """Read who may scrape /metrics, and whether function UUIDs may be labels."""
    allow = config.get("METRICS_ALLOW", "127.0.0.1/32,::1/128")
    if isinstance(allow, str):
        try:
            allow = [ipaddress.ip_network(a.strip()) for a in allow.split(",") if a.strip()]
        except ValueError as exc:
            raise ConfigError(
                f"METRICS_ALLOW has a bad entry ({exc}): write addresses or networks such as "
                "127.0.0.1/32,10.0.0.0/8, separated by commas."
            ) from None
    config["METRICS_ALLOW"] = allow
    token = config.get("METRICS_TOKEN")
    if token is not None and len(token) < 16:
        raise ConfigError("METRICS_TOKEN is too short: use at least 16 random characters.")
    config["METRICS_FUNCTION_LABELS"] = flag(config, "METRICS_FUNCTION_LABELS", "0")


def check_store(config):
    """Check the session backend choice."""
    backend = config.setdefault("SESSION_BACKEND", "filesystem")
    if backend not in ("filesystem", "redis"):
        raise ConfigError(f"SESSION_BACKEND must be filesystem or redis (got {backend!r}).")
    if backend == "redis" and not config.get("REDIS_URL"):
        raise ConfigError(
            "SESSION_BACKEND=redis needs REDIS_URL: set it, e.g. redis://localhost:6379/0."
        )


def instance_secret_key(instance_path):
    """Return the sandbox's signing key, created once so every worker signs alike."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        # Write then link: a concurrent worker sees either no file or the whole key.
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    with open(path) as file:
        return file.read().strip()
