"""The `test` command: run suite files against an account and report like a test runner."""

import json
import sys

import click

from .cli import EXIT_ERROR
from .cli import EXIT_FUNCTION_FAILED
from .cli import client_from_env
from .errors import FaaSInputError
from .junit import junit
from .suites import SuiteError
from .suites import as_text
from .suites import parse_file
from .suites import read_suites
from .suites import run_case
from .variables import Resolver
from .variables import VariableError
from .variables import load_file
from .variables import resolve_case


@click.command("test")
@click.argument("suite_file", type=click.File("rb"))
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="Write JUnit XML.")
@click.option(
    "--env",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON file of variables filling {{name}} in the cases' payloads and header values.",
)
@click.option("--json", "as_json", is_flag=True, help="The run (or the error) as JSON on stdout.")
def test(suite_file, junit_path, env, as_json):
    """Run the cases of SUITE_FILE (a suite, or an export of suites); exit 1 if any fails."""
    resolver = Resolver()
    try:
        suites, errors = read_suites(parse_file(suite_file.read(4 * 1024 * 1024)))
        resolver = load_file(env) if env else resolver
        # Every case is filled before any is sent: an unknown variable runs nothing.
        filled = {id(c): resolve_case(c, resolver)[0] for s in suites for c in s.cases}
    except (SuiteError, VariableError) as exc:
        errors = [str(exc)]
    if errors:
        if as_json:
            error = FaaSInputError(f"{suite_file.name}: " + "; ".join(errors)).as_dict()
            click.echo(json.dumps({"error": error}, indent=2, ensure_ascii=False))
        for error in errors if not as_json else ():
            click.echo(f"Error in {suite_file.name}: {error}", err=True)
        sys.exit(EXIT_ERROR)
    say = (lambda _text: None) if as_json else click.echo
    client = client_from_env()
    runs, failed = [], 0
    try:
        for suite in suites:
            say(f"{suite.name} ({len(suite.cases)} cases)")
            results = []
            for case in suite.cases:
                result = run_case(filled[id(case)], lambda operation: operation(client))
                results.append(result)
                failed += not result.passed
                mark = "PASS" if result.passed else "FAIL"
                say(f"  {mark} {case.name} ({result.duration_ms:.0f} ms)")
                for what, expected, got, difference in result.failures:
                    expected, got = resolver.mask(as_text(expected)), resolver.mask(as_text(got))
                    say(f"       {what}: expected {expected}, got {got}")
                    for line in resolver.mask(difference).splitlines():
                        say(f"         {line}")
                if result.failures and result.outcome != "success":
                    say(f"       {result.outcome}: {resolver.mask(error_line(result))}")
            runs.append((suite.name, results))
    finally:
        client.close()
    total = sum(len(s.cases) for s in suites)
    if as_json:
        # A secret variable's value never reaches the output, even echoed back in a body.
        text = json.dumps(report(runs, total, failed), indent=2, ensure_ascii=False)
        click.echo(resolver.mask(text))
    say(f"{total - failed} passed, {failed} failed")
    if junit_path:
        with open(junit_path, "w", encoding="utf-8") as handle:
            handle.write(resolver.mask(junit(runs)))
    sys.exit(EXIT_FUNCTION_FAILED if failed else 0)


def error_line(result):
    """Say what an error outcome got: `HTTP 404 com.…missinglambda: message`, as the app does."""
    body = result.body if isinstance(result.body, dict) else {}
    parts = [f"HTTP {result.status}" if result.status else "no HTTP status"]
    if body.get("code"):
        parts.append(str(body["code"]))
    line = " ".join(parts)
    if body.get("message"):
        line += f": {body['message']}"
    if result.request_id:
        line += f" (request id {result.request_id})"
    return line


def report(runs, total, failed):
    """The run as JSON-ready data: each case's outcome, status and missed expectations."""
    return {
        "passed": total - failed,
        "failed": failed,
        "suites": [
            {
                "name": name,
                "cases": [
                    {
                        "name": r.case.name,
                        "passed": r.passed,
                        "outcome": r.outcome,
                        "status": r.status,
                        "duration_ms": r.duration_ms,
                        "request_id": r.request_id,
                        "body": r.body,
                        "failures": [
                            {"what": what, "expected": expected, "got": got}
                            for what, expected, got, _ in r.failures
                        ],
                    }
                    for r in results
                ],
            }
            for name, results in runs
        ],
    }
