"""The vendored htmx is byte for byte the npm release that tests/node's package-lock.json pins
(`npm ci` checks the download against the lock's sha512)."""

import hashlib
import json
import re

from app.views import LINKS
from tests.support import NODE_DIR
from tests.support import ROOT
from tests.support import node_file


def test_vendored_htmx_is_the_pinned_npm_release():
    vendored = ROOT / "static" / LINKS["htmx"][1]["filename"]
    version = re.fullmatch(r"htmx-(2\.\d+\.\d+)\.min\.js", vendored.name).group(1)
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/htmx.org"]["version"] == version
    wanted = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    assert wanted["htmx.org"] == version
    assert json.loads(node_file("htmx.org/package.json").read_text())["version"] == version
    released = node_file("htmx.org/dist/htmx.min.js").read_bytes()
    ours = vendored.read_bytes()
    assert hashlib.sha256(ours).hexdigest() == hashlib.sha256(released).hexdigest()
