"""Check output files against a disclosure profile: the entry points.

    from job_runner.disclosure.checker import check_files, check_folder

    reports = check_files(["output/rates.csv", "output/rates.png"], profile("opensafely"))
    reports[0].verdict            # Verdict.PASS, REVIEW or FAIL
    reports[0].to_json()          # the documented report (docs/disclosure.md)

    check_folder("workspace/output", profile("srs"), released="releases/")
    # writes output/rates.csv.sdc-report.json beside each new or changed file

Files checked together form one request: the differencing check compares their tables with
each other and with the tables released before (`released`, a folder of released files).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from job_runner.disclosure.description import (
    DescriptionError,
    TableDescription,
    read_description,
    sidecar_path,
)
from job_runner.disclosure.outputs import REPORT_SUFFIX, OutputFile, kind_of
from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import FileReport, Finding, Verdict, worst
from job_runner.disclosure.rules import (
    FIGURE_RULES,
    FILE_RULES,
    REQUEST_RULES,
    TABLE_RULES,
    TEXT_RULES,
)
from job_runner.disclosure.rules.differencing import ReleasedTables
from job_runner.disclosure.tables import Table, UnreadableTable, read_table


def check_files(
    paths: Sequence[str | Path],
    rules: Profile,
    *,
    released: ReleasedTables | str | Path | None = None,
    root: str | Path | None = None,
) -> list[FileReport]:
    """One report per file, in the order given. Sidecar descriptions are read with the file
    they describe; given on their own they get a short report of their own."""
    if released is not None and not isinstance(released, ReleasedTables):
        released = ReleasedTables.from_folder(released)
    outputs = [_output(Path(path), root) for path in paths]
    reports: dict[str, FileReport] = {}
    tables: dict[str, Table] = {}
    for output in outputs:
        report, table = _check_one(output, rules)
        reports[output.name] = report
        if table is not None:
            tables[output.name] = table
    for output in outputs:
        if output.kind == "figure":
            reports[output.name].findings.extend(_apply(FIGURE_RULES, output, rules, tables))
    for rule in REQUEST_RULES:
        try:
            by_table = rule(list(tables.values()), rules, released)
        except Exception as error:  # a bug in one check must not pass or lose the others
            by_table = {name: [_checker_error(rule, error)] for name in tables}
        for name, findings in by_table.items():
            reports[name].findings.extend(findings)
    for name, table in tables.items():
        report = reports[name]
        if any(f.rule == "identifier" and f.verdict is Verdict.FAIL for f in report.findings):
            report.findings = [_without_key(finding) for finding in report.findings]
        report.cell_verdicts = _cell_verdicts(table, report.findings)
    return [reports[output.name] for output in outputs]


def check_file(path: str | Path, rules: Profile, **options) -> FileReport:
    """The report for one file on its own."""
    return check_files([path], rules, **options)[0]


def check_folder(
    folder: str | Path,
    rules: Profile,
    *,
    released: ReleasedTables | str | Path | None = None,
    only_new: bool = True,
) -> list[FileReport]:
    """Check every new or changed file under `folder` (as one request) and write each report
    beside its file as `<file>.sdc-report.json`. A file is new when it has no report, or its
    report was made for other contents or another profile. Returns the reports written."""
    folder = Path(folder)
    candidates = [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and kind_of(path) not in ("report", "description")
    ]
    if only_new:
        candidates = [path for path in candidates if not _report_is_current(path, rules)]
    if not candidates:
        return []
    reports = check_files(candidates, rules, released=released, root=folder)
    for path, report in zip(candidates, reports, strict=True):
        write_report(report, report_path(path))
    return reports


def report_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + REPORT_SUFFIX)


def write_report(report: FileReport, path: Path) -> None:
    """Write a report as JSON, to a temporary name and then renamed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def _report_is_current(path: Path, rules: Profile) -> bool:
    report = report_path(path)
    if not report.exists():
        return False
    try:
        previous = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    output = OutputFile(path, path.name)
    sidecar = sidecar_path(path)
    return (
        previous.get("sha256") == output.sha256
        and previous.get("profile") == rules.to_dict()
        and previous.get("description_sha256") == _sidecar_digest(sidecar)
    )


def _sidecar_digest(sidecar: Path) -> str | None:
    return OutputFile(sidecar, sidecar.name).sha256 if sidecar.exists() else None


def _output(path: Path, root: str | Path | None) -> OutputFile:
    name = str(path.relative_to(root)) if root is not None else str(path)
    return OutputFile(path=path, name=name)


def _check_one(output: OutputFile, rules: Profile) -> tuple[FileReport, Table | None]:
    report = FileReport(
        path=output.name,
        kind=output.kind,
        sha256=output.sha256,
        size=output.size,
        profile=rules.to_dict(),
    )
    report.description_sha256 = _sidecar_digest(sidecar_path(output.path))
    report.findings.extend(_apply(FILE_RULES, output, rules))
    if output.kind == "description":
        report.findings.extend(_check_sidecar(output))
        return report, None
    if output.kind == "evidence":
        report.findings.append(
            Finding(
                "description",
                Verdict.FAIL,
                "dominance evidence (the largest contributions to each cell) is for the checks "
                "only and must never be released; declare it highly_sensitive",
            )
        )
        return report, None
    try:
        output.description = read_description(output.path)
    except DescriptionError as error:
        report.findings.append(Finding("description", Verdict.FAIL, f"{error}; fix the file"))
        return report, None
    if output.description is None:
        report.findings.append(_undescribed(output))
    else:
        report.findings.extend(_placeholders(output))
    table = None
    if output.kind == "table" and not report.failures():
        try:
            table = read_table(output.path, output.description)
        except (UnreadableTable, DescriptionError) as error:
            report.findings.append(Finding("unreadable", Verdict.FAIL, f"{error}"))
            return report, None
        table.path = output.name
        report.structure = table.structure()
        report.cells_checked = len(table.raw) * len(table.columns)
        report.findings.extend(_apply(TABLE_RULES, table, rules))
        report.findings.extend(_structure_findings(table))
    elif output.kind == "text":
        report.findings.extend(_apply(TEXT_RULES, output, rules))
    elif output.kind == "other":
        report.findings.append(
            Finding(
                "structure",
                Verdict.REVIEW,
                f"{output.suffix} files are not checked automatically; an output checker must "
                "read this one",
            )
        )
    return report, table


def _apply(rule_functions: Iterable[Callable[..., list[Finding]]], *arguments) -> list[Finding]:
    """Every rule's findings. A rule that breaks gives a "needs review" finding instead, so a
    bug in one check neither stops the others nor lets the file pass."""
    findings = []
    for rule in rule_functions:
        try:
            findings.extend(rule(*arguments))
        except Exception as error:
            findings.append(_checker_error(rule, error))
    return findings


def _checker_error(rule: Callable, error: Exception) -> Finding:
    return Finding(
        "checker_error",
        Verdict.REVIEW,
        f"the check {rule.__name__} could not run ({type(error).__name__}: {error}); "
        "an output checker must check this by hand, and please report it",
    )


def _undescribed(output: OutputFile) -> Finding:
    return Finding(
        "description",
        Verdict.REVIEW,
        f"no description: write {sidecar_path(output.path).name} beside it saying what this "
        "output is, its population and size, and the controls applied "
        "(`osschools disclosure describe` starts one)",
    )


def _check_sidecar(output: OutputFile) -> list[Finding]:
    try:
        description = TableDescription.model_validate_json(output.text())
    except ValueError as error:
        return [Finding("description", Verdict.FAIL, f"not a valid description: {error}")]
    if description.contributors:
        return [
            Finding(
                "description",
                Verdict.FAIL,
                "holds dominance evidence (contributors), which must never be released; move "
                "it to the .sdc-evidence.json file and declare that highly_sensitive",
            )
        ]
    return []


def _placeholders(output: OutputFile) -> list[Finding]:
    """A description still holding the `TODO` placeholders `osschools disclosure describe`
    writes says nothing yet."""
    description = output.description
    fields = {
        "description": description.description,
        "population": description.population,
        "unit": description.unit,
    }
    unfinished = [name for name, text in fields.items() if text and "TODO" in text]
    if not unfinished:
        return []
    return [
        Finding(
            "description",
            Verdict.REVIEW,
            f"the description's {', '.join(unfinished)} still say TODO; fill them in",
            numbers={"fields": unfinished},
        )
    ]


def _structure_findings(table: Table) -> list[Finding]:
    """Columns the checker could not place: an output checker must look at them."""
    from job_runner.disclosure.description import Role

    findings = []
    for name in table.with_role(Role.OTHER):
        if name in table.described:
            continue
        findings.append(
            Finding(
                "structure",
                Verdict.REVIEW,
                f"cannot tell what column {name} holds; describe it in "
                f"{sidecar_path(table.path).name}",
                numbers={"column": name},
            )
        )
    return findings


def _without_key(finding: Finding) -> Finding:
    """The finding without its row's dimension values: in a file holding identifiers they may be
    the identifiers, and the report is read by people who must not see them."""
    if finding.cell is None or not finding.cell.key:
        return finding
    return dataclasses.replace(finding, cell=dataclasses.replace(finding.cell, key={}))


def _cell_verdicts(table: Table, findings: list[Finding]) -> dict:
    columns = list(table.raw.columns)
    grid = [[Verdict.PASS] * len(columns) for _ in range(len(table.raw))]
    positions = {name: index for index, name in enumerate(columns)}
    for finding in findings:
        cell = finding.cell
        if cell is None or cell.column not in positions or not 0 <= cell.row < len(grid):
            continue
        current = grid[cell.row][positions[cell.column]]
        grid[cell.row][positions[cell.column]] = worst([current, finding.verdict])
    return {"columns": columns, "rows": [[verdict.value for verdict in row] for row in grid]}
