"""axe-core (npm, pinned in tests/node/package-lock.json), run inside Debian's chromium."""

import shutil
import subprocess

import pytest

from tests.support import ROOT

NODE_DIR = ROOT / "tests" / "node"
SCRIPT = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
INSTALL_TIMEOUT = 600
SERIOUS = ("serious", "critical")


def source():
    """Return axe.min.js, installing tests/node's pinned packages first if needed."""
    if not SCRIPT.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed: the accessibility tests load axe-core from npm.")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        if done.returncode != 0 or not SCRIPT.exists():
            pytest.fail(f"`npm ci` in {NODE_DIR} failed:\n{done.stdout}\n{done.stderr}")
    return SCRIPT.read_text()


def serious_violations(page, script):
    """Run axe on the page (WCAG 2.x A and AA rules); return the serious and critical ones."""
    if not page.evaluate("() => Boolean(window.axe)"):
        # Evaluated through the DevTools protocol: the page's CSP does not apply to it.
        page.evaluate(script + "\n;true")
    result = page.evaluate(
        """async () => {
            const found = await axe.run(document, {runOnly: {type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}});
            return found.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes
                .slice(0, 3).map(n => n.target.join(" ") + ": " + n.failureSummary)}));
        }"""
    )
    return [v for v in result if v["impact"] in SERIOUS]
