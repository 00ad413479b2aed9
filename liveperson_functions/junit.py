"""JUnit XML for suite runs, as CI systems read it."""

import xml.etree.ElementTree as ET

from .suites import as_text


def junit(runs):
    """Return JUnit XML for [(suite name, results)], as CI systems read it."""
    results = [r for _, found in runs for r in found]
    failures = sum(not r.passed for r in results)
    root = ET.Element("testsuites", tests=str(len(results)), failures=str(failures))
    for name, found in runs:
        node = ET.SubElement(root, "testsuite", name=name, tests=str(len(found)))
        node.set("failures", str(sum(not r.passed for r in found)))
        node.set("time", f"{sum(r.duration_ms for r in found) / 1000:.3f}")
        for r in found:
            case = ET.SubElement(node, "testcase", classname=name, name=r.case.name)
            case.set("time", f"{r.duration_ms / 1000:.3f}")
            if r.failures:
                lines = [
                    f"{w}: expected {as_text(e)}, got {as_text(g)}" for w, e, g, _ in r.failures
                ]
                failure = ET.SubElement(case, "failure", message=lines[0], type="expectation")
                failure.text = "\n".join(lines + [d for *_, d in r.failures if d])
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
