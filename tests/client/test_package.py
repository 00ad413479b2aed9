"""`pip install .` into a fresh virtualenv gives the client and its command, and no Flask."""

import json
import subprocess
import sys

from tests.support import ROOT

from .conftest import outside_env

IMPORTS = """
import importlib.util
import sys

import liveperson_functions
from liveperson_functions import FunctionsClient, from_env, prepare_invoke

assert "flask" not in sys.modules, sorted(m for m in sys.modules if m.startswith("flask"))
for name in ("flask", "app", "sandbox", "tests"):
    assert importlib.util.find_spec(name) is None, name
print(liveperson_functions.__file__)
"""


def run(command, cwd):
    return subprocess.run(
        command, cwd=cwd, env=outside_env(), capture_output=True, text=True, timeout=60
    )


def test_the_package_imports_from_anywhere_without_flask(installed, tmp_path):
    done = run([installed / "python", "-W", "error", "-c", IMPORTS], tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(installed.parent / "lib"))


def test_the_command_is_installed_with_the_module_s_commands(installed, tmp_path):
    command = run([installed / "liveperson-functions", "--help"], tmp_path)
    module = run([installed / "python", "-m", "liveperson_functions", "--help"], tmp_path)

    assert command.returncode == module.returncode == 0, command.stderr + module.stderr
    assert command.stdout.startswith("Usage: liveperson-functions [OPTIONS] COMMAND")
    for name in ("invoke", "invoke-event", "is-implemented", "list"):
        assert f"\n  {name} " in command.stdout
    assert command.stdout.split("Commands:")[1] == module.stdout.split("Commands:")[1]


METADATA = """
import importlib.metadata
import json
import pathlib

import liveperson_functions

meta = importlib.metadata.metadata("liveperson-functions")
print(json.dumps({
    "version": meta["Version"],
    "requires_python": meta["Requires-Python"],
    "classifiers": meta.get_all("Classifier"),
    "urls": meta.get_all("Project-URL"),
    "requires": meta.get_all("Requires-Dist"),
    "extras": meta.get_all("Provides-Extra"),
    "summary": meta["Summary"],
    "readme": meta.get_payload()[:200],
    "typed": (pathlib.Path(liveperson_functions.__file__).parent / "py.typed").is_file(),
    "module_version": liveperson_functions.__version__,
}))
"""


def test_the_installed_package_describes_itself(installed, tmp_path):
    done = run([installed / "python", "-c", METADATA], tmp_path)

    assert done.returncode == 0, done.stderr
    meta = json.loads(done.stdout)
    assert meta["version"] == meta["module_version"]
    assert meta["requires_python"] == ">=3.11"
    assert "Typing :: Typed" in meta["classifiers"] and meta["typed"]
    assert any(url.startswith("Documentation, https://") for url in meta["urls"])
    assert meta["extras"] == ["async"]
    # Compatible-release pins throughout: no open floor, no exact pin.
    for requirement in meta["requires"]:
        assert "~=" in requirement and ">=" not in requirement, requirement
    assert any(r.startswith("httpx~=") and 'extra == "async"' in r for r in meta["requires"])
    assert "LivePerson Functions" in meta["summary"]
    assert meta["readme"].startswith("# ")  # the README, as the long description


def test_the_package_passes_its_own_strict_type_check(tmp_path):
    # pyproject.toml's [tool.mypy]: strict, the command line's own modules allowed untyped.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found")
