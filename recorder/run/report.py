"""Human and machine reports of a run: failure report, summary line, JUnit XML, JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from .results import ScenarioResult


def summary_line(result: ScenarioResult) -> str:
    counts = result.counts()
    verdict = "PASS" if result.passed else ("INTERRUPTED" if result.interrupted else "FAIL")
    not_run = f", {counts['not-run']} not run here" if counts["not-run"] else ""
    line = (
        f"{verdict} {result.path}: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped{not_run} in {result.duration:.1f}s"
    )
    failed = result.first_failure
    if failed is not None:
        why = failed.failures[0] if failed.failures else "failed"
        line += f" — {failed.location} {failed.label!r}: {why}"
    elif result.error:
        line += f" — {result.error}"
    elif result.stopped:
        line += f" — stopped at {result.stopped}"
    return line


def failure_report(result: ScenarioResult) -> str:
    """What went wrong, for the file written beside a failed cast."""
    lines = [f"stagecast: {result.title} ({result.path})", summary_line(result), ""]
    if result.error:
        lines += [f"error: {result.error}", ""]
    for step in result.steps:
        if step.status != "failed":
            continue
        lines.append(f"step {step.name} at {step.location}")
        if step.command:
            lines.append("  command:")
            lines += [f"    {line}" for line in step.command.rstrip().splitlines()]
        lines.append(f"  exit code: {step.rc if step.rc is not None else 'unknown'}")
        lines.append("  expected vs got:")
        lines += [f"    - {failure}" for failure in step.failures]
        lines.append("  output (last lines):")
        lines += [f"    | {line}" for line in step.tail().splitlines()] or ["    | (none)"]
        lines.append("")
    return "\n".join(lines) + "\n"


def junit_xml(results: Iterable[ScenarioResult]) -> str:
    suites = ET.Element("testsuites")
    for result in results:
        counts = result.counts()
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.name,
            tests=str(len(result.steps)),
            failures=str(counts["failed"]),
            skipped=str(counts["skipped"] + counts["not-run"]),
            time=f"{result.duration:.3f}",
            file=result.path,
        )
        for step in result.steps:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{result.name}.{step.phase}",
                name=f"{step.index:02d} {step.label}",
                time=f"{step.duration:.3f}",
            )
            if step.status == "failed":
                failure = ET.SubElement(
                    case, "failure", message=step.failures[0] if step.failures else "failed"
                )
                failure.text = "\n".join(step.failures) + "\n--- output tail ---\n" + step.tail()
            elif step.status == "skipped":
                ET.SubElement(case, "skipped", message="not run: an earlier step failed")
            elif step.status == "not-run":
                ET.SubElement(case, "skipped", message=f"not run here: {step.not_run_reason}")
        if result.error:
            ET.SubElement(suite, "system-err").text = result.error
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(results: Iterable[ScenarioResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(results), encoding="utf-8")


def results_json(results: Iterable[ScenarioResult]) -> str:
    results = list(results)
    return json.dumps(
        {"passed": all(r.passed for r in results), "scenarios": [r.to_dict() for r in results]},
        indent=2,
    )
