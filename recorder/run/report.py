"""Human and machine reports of a run: failure report, summary line, JUnit XML, JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from recorder.cast.writer import write_text_atomically

from .results import Drift, ScenarioResult, StepResult


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
    """One testsuite per scenario, one testcase per step. A step that drifted from the
    `--baseline` cast fails too; drifts no step of the run printed (a step only the baseline
    has) fail one more testcase, named for the baseline. The counts are the testcases'."""
    suites = ET.Element("testsuites")
    for result in results:
        cases = [_step_case(result, n, step) for n, step in enumerate(result.steps)]
        unplaced = [drift for drift in result.drifts if drift.step is None]
        if unplaced:
            cases.append(_baseline_case(result, unplaced))
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.name,
            tests=str(len(cases)),
            failures=str(sum(case.find("failure") is not None for case in cases)),
            skipped=str(sum(case.find("skipped") is not None for case in cases)),
            time=f"{result.duration:.3f}",
            file=result.path,
        )
        suite.extend(cases)
        if result.error:
            ET.SubElement(suite, "system-err").text = result.error
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _step_case(result: ScenarioResult, n: int, step: StepResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=f"{result.name}.{step.phase}",
        name=f"{step.index:02d} {step.label}",
        time=f"{step.duration:.3f}",
    )
    drifts = [drift for drift in result.drifts if drift.step == n]
    if step.status == "failed":
        failure = ET.SubElement(
            case, "failure", message=step.failures[0] if step.failures else "failed"
        )
        failure.text = "\n".join(step.failures) + "\n--- output tail ---\n" + step.tail()
    elif drifts:  # before `skipped`: a not-run step's note can drift too, and that fails
        _drift_failure(case, drifts)
    elif step.status == "skipped":
        ET.SubElement(case, "skipped", message="not run: an earlier step failed")
    elif step.status == "not-run":
        ET.SubElement(case, "skipped", message=f"not run here: {step.not_run_reason}")
    return case


def _baseline_case(result: ScenarioResult, drifts: list[Drift]) -> ET.Element:
    case = ET.Element(
        "testcase", classname=f"{result.name}.baseline", name=f"baseline {drifts[0].baseline}"
    )
    _drift_failure(case, drifts)
    return case


def _drift_failure(case: ET.Element, drifts: list[Drift]) -> None:
    more = f" (and {len(drifts) - 1} more)" if len(drifts) > 1 else ""
    failure = ET.SubElement(case, "failure", message=drifts[0].message + more, type="drift")
    failure.text = "\n\n".join(f"{drift.message}\n{drift.detail}" for drift in drifts)


def write_junit(results: Iterable[ScenarioResult], path: Path) -> None:
    """Atomically: two rehearsals writing the same report leave one whole report, never a
    mix (the last one's)."""
    write_text_atomically(junit_xml(results), path)


def results_json(results: Iterable[ScenarioResult]) -> str:
    results = list(results)
    return json.dumps(
        {"passed": all(r.passed for r in results), "scenarios": [r.to_dict() for r in results]},
        indent=2,
    )
