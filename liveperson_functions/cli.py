"""The `faas` command group: `python -m liveperson_functions …`, or `flask faas …` in the app."""

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from typing import NoReturn
from typing import TypeVar

import click

from . import __version__
from .auth import ClientCredentials
from .check import Finding
from .check import try_account
from .env import from_env
from .errors import FaaSError
from .errors import FaaSInputError
from .errors import FaaSLambdaError
from .variables import Resolver
from .variables import VariableError
from .variables import load_file

T = TypeVar("T")

# Exit codes, documented in `--help` and the README.
EXIT_FUNCTION_FAILED = 1  # the function ran and failed
EXIT_ERROR = 2  # a usage error or a bad setting: nothing was sent
EXIT_REFUSED = 3  # LivePerson refused, or no answer to a read: the function did not run
EXIT_MAY_HAVE_RUN = 4  # an invocation was sent and no answer came: the function may have run
EXIT_CODES = f"""\b
Exit codes:
  0  success
  {EXIT_FUNCTION_FAILED}  the function ran and failed (HTTP 901, a function error code)
  {EXIT_ERROR}  usage error or bad setting; nothing was sent
  {EXIT_REFUSED}  refused by LivePerson (4xx/5xx) or no usable answer; the function did not run
  {EXIT_MAY_HAVE_RUN}  sent, but no answer (timeout, broken connection, HTTP 504); it may have run
With --json, results and errors go to stdout as JSON; an error is
{{"error": {{"kind", "status", "code", "message", "request_id", "may_have_run", …}}}}."""


def exit_code(error: Exception) -> int:
    """Return the documented exit code for a failure."""
    if isinstance(error, FaaSInputError):
        return EXIT_ERROR
    if isinstance(error, FaaSLambdaError):
        return EXIT_FUNCTION_FAILED
    if isinstance(error, FaaSError) and error.may_have_run:
        return EXIT_MAY_HAVE_RUN
    return EXIT_REFUSED


def client_from_env(env=None, user_id=None):
    """Build the client from LP_* variables (see `from_env`), a usage error when they are bad.

    `user_id` is sent as `userId` on every call: the id of the user whose LP_BEARER it is.
    """
    try:
        return from_env(env, user_id=user_id)
    except FaaSInputError as exc:
        raise click.UsageError(str(exc)) from exc


def _payload(_ctx, _param, value):
    """Read --payload's text: JSON, or `@file` (`@-` for stdin) holding JSON."""
    if value is None:
        return "{}"
    source = value
    if value.startswith("@"):
        name = value[1:]
        try:
            if name == "-":
                source = sys.stdin.read()
            else:
                with open(name, encoding="utf-8") as handle:
                    source = handle.read()
        except OSError as exc:
            raise click.BadParameter(f"cannot read {name}: {exc.strerror}") from exc
    return source


def _resolved(payload, headers, env):
    """Fill {{variables}} from the --env file (and built-ins), then parse the payload as JSON."""
    try:
        resolver = load_file(env) if env else Resolver()
        payload = resolver.json(payload).text
        headers = [(name, resolver.text(value).text) for name, value in headers]
    except VariableError as exc:
        raise click.UsageError(f"nothing sent: {exc}") from exc
    try:
        return json.loads(payload), headers
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc})", param_hint="--payload") from exc


def _headers(_ctx, _param, values):
    pairs = []
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not key=value")
        pairs.append((key.strip(), value))
    return pairs


_pretty = click.option("--pretty", is_flag=True, help="Readable text instead of JSON.")
_as_json = click.option(
    "--json", "as_json", is_flag=True, help="Results and errors as JSON on stdout (for scripts)."
)
_user_id = click.option(
    "--user-id", help="Id of the user whose LP_BEARER this is; sent as userId on every call."
)


_env = click.option(
    "--env",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON file of variables filling {{name}} in the payload and header values.",
)


def _invocation_options(command):
    options = [
        click.option("--payload", callback=_payload, help="JSON payload, or @file / @- (stdin)."),
        click.option(
            "--header",
            "headers",
            multiple=True,
            callback=_headers,
            help="key=value passed to the function in `headers`; repeatable.",
        ),
        click.option("--skill", help="Skill id the invocation is for."),
        click.option("--event-source", help="Event source / external system name."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds."),
        _env,
        _user_id,
        _pretty,
        _as_json,
    ]
    for option in reversed(options):
        command = option(command)
    return command


class Commands(click.Group):
    """A command group whose usage errors are JSON on stdout when the command has --json."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if not ctx.meta.get("json"):
                raise
            _json({"error": _usage_error(exc.format_message())})
            ctx.exit(EXIT_ERROR)


@click.group(name="faas", cls=Commands, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="liveperson-functions")
def faas():
    """Invoke LivePerson Functions and inspect an account's functions.

    Configure with LP_ACCOUNT_ID, LP_CSDS_URL, LP_DOMAINS, LP_REGION, LP_PLATFORM,
    LP_INSECURE_HTTP and either LP_CLIENT_ID + LP_CLIENT_SECRET or LP_BEARER. Without
    LP_ACCOUNT_ID it talks to the local sandbox (SANDBOX_URL). HTTPS_PROXY, NO_PROXY,
    REQUESTS_CA_BUNDLE and SSL_CERT_FILE are honoured, as by requests.
    """


@faas.command()
@click.argument("uuid")
@_invocation_options
def invoke(uuid, payload, headers, skill, event_source, timeout, env, user_id, pretty, as_json):
    """Invoke the function UUID and print its result."""
    payload, headers = _resolved(payload, headers, env)
    options = {"headers": headers, "skill_id": skill, "event_source": event_source}
    options["timeout"] = timeout
    outcome = _run(lambda client: client.invoke(uuid, payload, **options), user_id, as_json)
    if as_json or not pretty:
        return _json(asdict(outcome))
    _table(
        [
            ("Status", outcome.status),
            ("Duration", f"{outcome.duration_ms:.1f} ms"),
            ("Request id", outcome.request_id),
            ("Domain", outcome.domain),
        ],
        None,
    )
    click.echo("Result:")
    click.echo(_indent(_dump(outcome.result, indent=2)))
    if outcome.logs:
        click.echo("Logs:")
        for entry in outcome.logs:
            click.echo(f"  {_log_line(entry)}")


@faas.command("invoke-event")
@click.argument("event")
@_invocation_options
def invoke_event(
    event, payload, headers, skill, event_source, timeout, env, user_id, pretty, as_json
):
    """Invoke every function implementing EVENT and print their results."""
    payload, headers = _resolved(payload, headers, env)
    options = {"headers": headers, "skill_id": skill, "event_source": event_source}
    options["timeout"] = timeout
    items = _run(lambda client: client.invoke_event(event, payload, **options), user_id, as_json)
    if as_json or not pretty:
        return _json([asdict(item) for item in items])
    if not items:
        return click.echo(f"No function implements {event}.")
    rows = [(i.uuid, i.timestamp, _clip(_dump(i.result), 60)) for i in items]
    _table(rows, ("UUID", "TIMESTAMP", "RESULT"))


@faas.command("is-implemented")
@click.argument("event")
@click.option("--skill", help="Skill id to ask about.")
@_user_id
@_pretty
@_as_json
def is_implemented(event, skill, user_id, pretty, as_json):
    """Tell whether any function implements EVENT."""
    implemented = _run(
        lambda client: client.is_implemented(event, skill_id=skill), user_id, as_json
    )
    if as_json or not pretty:
        return _json({"event": event, "skill": skill, "implemented": implemented})
    scope = f" for skill {skill}" if skill else ""
    click.echo(f"{event}{scope} is {'' if implemented else 'not '}implemented.")


@faas.command("list")
@click.option("--state", multiple=True, help="Draft, Productive, Modified…; repeatable.")
@click.option("--event", help="Only functions for this event id.")
@click.option("--name", help="Only functions whose name contains this.")
@_user_id
@_pretty
@_as_json
def list_functions(state, event, name, user_id, pretty, as_json):
    """List the account's functions."""
    functions = _run(
        lambda client: client.list_functions(state=list(state) or None, event_id=event, name=name),
        user_id,
        as_json,
    )
    if as_json or not pretty:
        return _json(functions)
    if not functions:
        return click.echo("No functions found.")
    rows = [
        (f["uuid"], f["name"], f["state"], f["eventId"] or "", f["updatedAt"] or "")
        for f in functions
    ]
    _table(rows, ("UUID", "NAME", "STATE", "EVENT", "UPDATED"))


@faas.command()
@_pretty
@_as_json
def check(pretty, as_json):
    """Try the account's hosts, Sentinel's client authentication and app token; invoke nothing."""
    client = client_from_env()
    auth, resolver = client.auth, client.resolver
    try:
        if not isinstance(auth, ClientCredentials):
            raise click.UsageError("check needs LP_CLIENT_ID and LP_CLIENT_SECRET, not LP_BEARER.")
        findings = try_account(resolver, client.account_id, *auth.credentials(), client.session)
        findings.append(_app_token_finding(auth))
    finally:
        client.close()
    if pretty and not as_json:
        for finding in findings:
            mark = {True: "✓", False: "✗", None: "i"}[finding.ok]
            click.echo(f"{mark} {finding.name}: {finding.detail}")
            if finding.fix:
                click.echo(f"    Fix: {finding.fix}")
    else:
        _json([asdict(finding) for finding in findings])
    if any(finding.ok is False for finding in findings):
        sys.exit(EXIT_ERROR)


def _app_token_finding(auth):
    """Fetch an app token (form body, as the official clients send it); never invoke."""
    name = "App token (client credentials)"
    try:
        auth.header()
    except FaaSError as exc:
        return Finding(name, False, str(exc), exc.advice)
    return Finding(name, True, "issued")


def _run(operation: Callable[[Any], T], user_id: str | None = None, as_json: bool = False) -> T:
    """Run a client call, turning failures into the documented exit codes and advice."""
    client = client_from_env(user_id=user_id)
    try:
        return operation(client)
    except FaaSInputError as exc:
        if not as_json:
            raise click.UsageError(str(exc)) from exc
        fail(exc, as_json)
    except FaaSError as exc:
        fail(exc, as_json)
    finally:
        client.close()


def fail(exc: FaaSError, as_json: bool) -> NoReturn:
    """Report an error (JSON on stdout, or explained on stderr) and exit with its code."""
    if as_json:
        _json({"error": exc.as_dict()})
    else:
        _report(exc)
    sys.exit(exit_code(exc))


def _usage_error(message: str) -> dict[str, Any]:
    """A usage error in the shape of FaaSError.as_dict()."""
    return FaaSInputError(message).as_dict()


def _report(exc):
    lines = [f"Error: {exc}", f"What happened: {exc.explanation}", f"What to do: {exc.advice}"]
    if exc.request_id:
        lines.append(f"Request id: {exc.request_id}")
    for entry in getattr(exc, "error_logs", []):
        lines.append(f"  {_log_line(entry)}")
    click.echo("\n".join(lines), err=True)


def _json(value):
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _dump(value, indent=None):
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=indent, ensure_ascii=False, default=str)


def _indent(text):
    return "\n".join(f"  {line}" for line in text.splitlines()) or "  (empty)"


def _clip(text, width):
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _log_line(entry):
    if not isinstance(entry, dict):
        return _clip(entry, 200)
    return f"[{entry.get('level', 'log')}] {_clip(entry.get('message', ''), 200)}"


def _table(rows, header):
    """Print rows as aligned columns, with an optional header line."""
    rows = [tuple("" if cell is None else str(cell) for cell in row) for row in rows]
    all_rows = ([tuple(header)] if header else []) + rows
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(all_rows[0]))]
    for row in all_rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


# At the end: the runner module imports this one's client_from_env.
from .runner import test  # noqa: E402

faas.add_command(test)
