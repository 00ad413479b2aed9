"""The `test` command: run suite files against an account and report like a test runner."""

import sys

import click

from .cli import EXIT_ERROR
from .cli import EXIT_FUNCTION_FAILED
from .cli import client_from_env
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
def test(suite_file, junit_path, env):
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
        for error in errors:
            click.echo(f"Error in {suite_file.name}: {error}", err=True)
        sys.exit(EXIT_ERROR)
    client = client_from_env()
    runs, failed = [], 0
    try:
        for suite in suites:
            click.echo(f"{suite.name} ({len(suite.cases)} cases)")
            results = []
            for case in suite.cases:
                result = run_case(filled[id(case)], lambda operation: operation(client))
                results.append(result)
                failed += not result.passed
                mark = "PASS" if result.passed else "FAIL"
                click.echo(f"  {mark} {case.name} ({result.duration_ms:.0f} ms)")
                for what, expected, got, difference in result.failures:
                    expected, got = resolver.mask(as_text(expected)), resolver.mask(as_text(got))
                    click.echo(f"       {what}: expected {expected}, got {got}")
                    for line in resolver.mask(difference).splitlines():
                        click.echo(f"         {line}")
            runs.append((suite.name, results))
    finally:
        client.session.close()
    total = sum(len(s.cases) for s in suites)
    click.echo(f"{total - failed} passed, {failed} failed")
    if junit_path:
        with open(junit_path, "w", encoding="utf-8") as handle:
            handle.write(resolver.mask(junit(runs)))
    sys.exit(EXIT_FUNCTION_FAILED if failed else 0)
