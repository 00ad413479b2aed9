"""axe-core (npm, pinned in tests/node/package-lock.json), run inside Debian's chromium."""

from tests.support import node_file

SERIOUS = ("serious", "critical")


def source():
    """Return axe.min.js, installing tests/node's pinned packages first if needed."""
    return node_file("axe-core/axe.min.js").read_text()


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
