"""`osschools disclosure ...`: check outputs against a disclosure profile before asking for
their release, write the sidecar that describes an output, and list the profiles.

    osschools disclosure check output/rates.csv output/rates.png --profile srs --json report.json
    osschools disclosure check-folder output --released releases/
    osschools disclosure describe output/rates.csv
    osschools disclosure profiles

Exit status of `check` and `check-folder`: 0 when every file passes, 1 when any file fails,
3 when none fails but some need an output checker's review, 2 for bad input (a missing file,
an unusable configuration or --set).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml
from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from job_runner.disclosure.description import (
    COUNT_ROLES,
    ColumnDescription,
    DescriptionError,
    Role,
    TableDescription,
    sidecar_path,
)
from job_runner.disclosure.outputs import kind_of
from job_runner.disclosure.profiles import (
    PROFILES,
    SETTINGS,
    Profile,
    ProfileConfigError,
    load_profile,
    profile,
)
from job_runner.disclosure.report import Finding, Verdict, worst

if TYPE_CHECKING:
    from job_runner.disclosure.report import FileReport

PROFILE_VARIABLE = "OSSCHOOLS_DISCLOSURE_PROFILE"
DEFAULT_PROFILE = "opensafely"
EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_REVIEW = 0, 1, 2, 3
VERDICT_STYLES = {Verdict.PASS: "green", Verdict.REVIEW: "yellow", Verdict.FAIL: "bold red"}
FINDINGS_SHOWN = 50
TODO = "TODO: "


class BadInput(click.ClickException):
    """Input that cannot be used: one line naming the file or field, exit status 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


# Choosing the profile


class ProfileChoiceError(ValueError):
    """A profile that cannot be used; the message names where it came from."""


def chosen_profile(
    name: str | None = None, config: str | Path | None = None, settings: Sequence[str] = ()
) -> Profile:
    """The profile to check with: `name`, else the one `config` (a disclosure YAML file) names,
    else OSSCHOOLS_DISCLOSURE_PROFILE (a profile name or a configuration file), else
    opensafely; then each `NAME=VALUE` of `settings` overrides a parameter."""
    if name is not None and config is not None:
        raise ProfileChoiceError(
            f"give --profile or --config, not both: {config} names its own profile"
        )
    if name is None and config is None:
        from_environment = os.environ.get(PROFILE_VARIABLE, "").strip()
        if from_environment.endswith((".yaml", ".yml")) or os.sep in from_environment:
            config = from_environment
        elif from_environment:
            name = from_environment
            if name not in PROFILES:
                raise ProfileChoiceError(
                    f"{PROFILE_VARIABLE}={name}: no such disclosure profile; the profiles are "
                    f"{', '.join(PROFILES)} (or give a configuration file ending in .yaml)"
                )
    if config is not None:
        try:
            rules = load_profile(config)
        except ProfileConfigError as error:
            _check_config_types(Path(config))
            raise ProfileChoiceError(str(error)) from None
        _check_types(rules, str(config))
    else:
        rules = profile(name or DEFAULT_PROFILE)
    overrides = dict(parse_setting(setting) for setting in settings)
    if overrides:
        try:
            rules = dataclasses.replace(rules, **overrides)
        except (TypeError, ValueError) as error:
            raise ProfileChoiceError(f"--set: {error}") from None
    return rules


_TYPES = {field.name: str(field.type) for field in dataclasses.fields(Profile)}


def parse_setting(text: str) -> tuple[str, Any]:
    """`NAME=VALUE` as a profile parameter and its value (`threshold=10`, `rounding=none`,
    `protection_width=null`, `allowed_types=csv,png`)."""
    name, equals, value_text = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise ProfileChoiceError(f"--set {text}: expected NAME=VALUE, e.g. --set threshold=10")
    if name not in SETTINGS:
        raise ProfileChoiceError(
            f"--set {text}: no disclosure setting {name!r}; the settings are {', '.join(SETTINGS)}"
        )
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else None
    except yaml.YAMLError:
        value = value_text
    if name == "allowed_types" and isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    try:
        return name, _typed(name, value)
    except ValueError as error:
        raise ProfileChoiceError(f"--set {text}: {error}") from None


def _typed(name: str, value: Any) -> Any:
    """`value` as the type the parameter takes, or a ValueError saying what it should be."""
    kind = _TYPES[name]
    if value is None:
        if "None" in kind:
            return None
        raise ValueError(f"{name} needs a value")
    if kind.startswith("bool"):
        if isinstance(value, bool):
            return value
        raise ValueError(f"{name} is true or false, not {value!r}")
    if kind.startswith("int"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"{name} is a whole number, not {value!r}")
    if kind.startswith("float"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{name} is a number, not {value!r}")
    if kind.startswith("tuple"):
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(item.strip() for item in value)
        raise ValueError(f"{name} is a list of file types, e.g. csv,png")
    if not isinstance(value, str):
        raise ValueError(f"{name} is a word, not {value!r}")
    return value


def _check_config_types(config: Path) -> None:
    """Name the setting of a configuration file whose value has the wrong type, if one has."""
    try:
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return
    if not isinstance(settings, dict):
        return
    for name, value in settings.items():
        if name in SETTINGS:
            try:
                _typed(name, value)
            except ValueError as error:
                raise ProfileChoiceError(f"{config}: {error}") from None


def _check_types(rules: Profile, source: str) -> None:
    for name in SETTINGS:
        try:
            _typed(name, getattr(rules, name))
        except ValueError as error:
            raise ProfileChoiceError(f"{source}: {error}") from None


def _profile_or_exit(name: str | None, config: Path | None, settings: Sequence[str]) -> Profile:
    try:
        return chosen_profile(name, config, settings)
    except ProfileChoiceError as error:
        raise BadInput(str(error)) from None


# The commands

_PROFILE_OPTION = click.option(
    "--profile",
    "profile_name",
    type=click.Choice(sorted(PROFILES)),
    default=None,
    help=f"The rule profile [default: ${PROFILE_VARIABLE}, else {DEFAULT_PROFILE}].",
)
_CONFIG_OPTION = click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A disclosure configuration file (YAML: `profile: NAME` and any parameters).",
)
_SET_OPTION = click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override one parameter of the profile (repeatable), e.g. --set threshold=10.",
)
_RELEASED_OPTION = click.option(
    "--released",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A folder of files released before, for the differencing check.",
)


@click.group("disclosure", context_settings={"help_option_names": ["-h", "--help"]})
def disclosure_group() -> None:
    """Statistical disclosure checks on outputs (docs/disclosure.md)."""


@disclosure_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_PROFILE_OPTION
@_CONFIG_OPTION
@_SET_OPTION
@_RELEASED_OPTION
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write every report, as a JSON list, to this file ('-': print it instead).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show passing findings too.")
def check_command(
    files: tuple[Path, ...],
    profile_name: str | None,
    config: Path | None,
    settings: tuple[str, ...],
    released: Path | None,
    json_path: Path | None,
    verbose: bool,
) -> None:
    """Check FILEs (and every file in a folder given) as one release request.

    Prints each file's verdict and what the checks found, cell by cell. Exit status: 0 when
    every file passes, 1 when any fails, 3 when none fails but some need an output checker's
    review, 2 for bad input.
    """
    rules = _profile_or_exit(profile_name, config, settings)
    paths = expand(files)
    if not paths:
        raise BadInput("no files to check: the folders given hold no outputs")
    _check_released(released)
    from job_runner.disclosure.checker import check_files

    reports = _checked(lambda: check_files(paths, rules, released=released))
    if json_path is not None:
        text = json.dumps([report.to_json() for report in reports], indent=2) + "\n"
        if str(json_path) == "-":
            click.echo(text, nl=False)
            _exit(reports)
        write_text_atomically(json_path, text)
    console = Console(highlight=False, soft_wrap=True)
    console.print(Text(f"Profile: {rules.describe()}", style="dim"))
    for report in reports:
        print_report(console, report, verbose=verbose)
    print_totals(console, reports)
    if json_path is not None:
        console.print(Text(f"Reports written to {json_path}", style="dim"))
    _exit(reports)


@disclosure_group.command("check-folder")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@_PROFILE_OPTION
@_CONFIG_OPTION
@_SET_OPTION
@_RELEASED_OPTION
@click.option(
    "--all", "check_all", is_flag=True, help="Check every file, not only new or changed ones."
)
def check_folder_command(
    folder: Path,
    profile_name: str | None,
    config: Path | None,
    settings: tuple[str, ...],
    released: Path | None,
    check_all: bool,
) -> None:
    """Check the new and changed files under FOLDER as one request, and write each file's report
    beside it as <file>.sdc-report.json (the backend's check). A file is unchanged when its
    report is for the same contents, description and profile. Exit status as for `check`."""
    rules = _profile_or_exit(profile_name, config, settings)
    _check_released(released)
    from job_runner.disclosure.checker import check_folder, report_path

    written = _checked(
        lambda: check_folder(folder, rules, released=released, only_new=not check_all)
    )
    fresh = {report.path for report in written}
    rows = []
    for path in folder_outputs(folder):
        name = str(path.relative_to(folder))
        try:
            report = json.loads(report_path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append((name, report, name in fresh))
    console = Console(highlight=False, soft_wrap=True)
    table = RichTable(title=f"{folder} ({rules.name})", title_justify="left", box=box.SIMPLE)
    for column in ("file", "verdict", "fail", "review", "first problem", ""):
        table.add_column(column, justify="right" if column in ("fail", "review") else "left")
    verdicts = []
    for name, report, checked_now in rows:
        verdict = Verdict(report.get("verdict", Verdict.REVIEW.value))
        verdicts.append(verdict)
        summary = report.get("summary", {})
        problems = [item for item in report.get("findings", []) if item["verdict"] == "fail"]
        problems += [
            item for item in report.get("findings", []) if item["verdict"] == "needs review"
        ]
        table.add_row(
            name,
            Text(verdict.value, style=VERDICT_STYLES[verdict]),
            str(summary.get(Verdict.FAIL.value, 0)),
            str(summary.get(Verdict.REVIEW.value, 0)),
            f"{problems[0]['rule']}: {problems[0]['message']}" if problems else "",
            Text("checked" if checked_now else "unchanged", style="dim"),
        )
    console.print(table)
    unchanged = len(rows) - len(fresh)
    console.print(
        f"{len(fresh)} file{_s(len(fresh))} checked, reports written beside them"
        + (f"; {unchanged} unchanged since their last report (--all rechecks)" if unchanged else "")
    )
    _exit_with(exit_status(verdicts))


@disclosure_group.command("describe")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing description.")
@_PROFILE_OPTION
def describe_command(file: Path, force: bool, profile_name: str | None) -> None:
    """Write a starter description of FILE (FILE.sdc.json) from the structure the checker
    infers, for you to complete. It never overwrites one unless --force."""
    if not file.is_file():
        raise BadInput(f"{file}: no such file")
    target = sidecar_path(file)
    if target.exists() and not force:
        raise BadInput(f"{target} already exists; edit it, or --force to start again")
    rules = _profile_or_exit(profile_name, None, ())
    try:
        content = starter_description(file, rules)
    except (ValueError, DescriptionError) as error:
        raise BadInput(f"{file}: {error}") from None
    write_text_atomically(target, json.dumps(content, indent=2) + "\n")
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"Wrote {target}.")
    todo = [key for key, value in content.items() if _is_todo(value)]
    console.print(
        "Fill in "
        + _and([f"[bold]{key}[/bold]" for key in todo])
        + " (replace each TODO), then declare it as a moderately_sensitive output in "
        "project.yaml beside the file it describes."
    )
    if content.get("columns"):
        table = RichTable(title="Inferred column roles: check each", title_justify="left")
        for column in ("column", "role", "details"):
            table.add_column(column)
        for name, column in content["columns"].items():
            details = ", ".join(f"{key}={value}" for key, value in column.items() if key != "role")
            table.add_row(name, column["role"], details)
        console.print(table)
        console.print(
            "Roles: " + ", ".join(role.value for role in Role) + ". See docs/disclosure.md."
        )


@disclosure_group.command("profiles")
def profiles_command() -> None:
    """List the rule profiles and their parameters."""
    console = Console(highlight=False, soft_wrap=True)
    table = RichTable(title="Disclosure profiles", title_justify="left")
    table.add_column("parameter")
    for name in PROFILES:
        table.add_column(name)
    table.add_column("meaning")
    for setting in SETTINGS:
        table.add_row(
            setting,
            *(_show(getattr(rules, setting)) for rules in PROFILES.values()),
            PARAMETER_MEANINGS.get(setting, ""),
        )
    console.print(table)
    for rules in PROFILES.values():
        console.print(rules.describe())
    chosen = os.environ.get(PROFILE_VARIABLE)
    console.print(
        f"The default is {DEFAULT_PROFILE}"
        + (f"; {PROFILE_VARIABLE} chooses {chosen}" if chosen else f" (set {PROFILE_VARIABLE})")
        + ". --set NAME=VALUE overrides one parameter."
    )


PARAMETER_MEANINGS = {
    "threshold": "a count of units at (inclusive) or below this is small",
    "inclusive": "whether a count equal to the threshold is small",
    "redact_zero": "whether zero counts as small",
    "rounding": "how counts are rounded: base, midpoint6 or none",
    "base": "the rounding base",
    "nk_n": "NK dominance: the number of largest contributors (0: off)",
    "nk_k": "NK dominance: the share of a sum they may not reach",
    "p_percent": "p% rule: the rest of a sum must be at least this share of the largest",
    "sd_min_df": "a standard deviation needs n - 1 of at least this",
    "model_min_df": "a model needs at least this many residual degrees of freedom",
    "extremes_allowed": "whether minima, maxima and ranges may be shown (design bounds may)",
    "protection_width": "a suppressed cell pinned to a narrower interval is exposed (none: the "
    "threshold)",
    "row_level_fraction": "rows / population at which a table looks row-level",
    "max_file_bytes": "the largest file that may be released",
    "max_csv_rows": "the most rows a CSV file may have",
    "allowed_types": "the file types that may be released",
}


# Files


def expand(paths: Iterable[Path]) -> list[Path]:
    """The files to check: each file given, and the outputs in each folder given (not their
    sidecars or reports). A report given by name is left out; a missing file is bad input."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(folder_outputs(path))
        elif path.is_file():
            if kind_of(path) != "report":
                files.append(path)
        else:
            raise BadInput(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


def folder_outputs(folder: Path) -> list[Path]:
    """The files under `folder` that are outputs (not descriptions or reports, not hidden)."""
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and kind_of(path) not in ("report", "description")
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]


def _check_released(released: Path | None) -> None:
    if released is not None and not released.is_dir():
        raise BadInput(f"--released {released}: no such folder")


def _checked(run: Any) -> Any:
    """Run the checker; a problem with the input it reports becomes a one-line error."""
    try:
        return run()
    except (DescriptionError, ProfileConfigError, OSError) as error:
        raise BadInput(str(error)) from None


def write_text_atomically(path: Path, text: str) -> None:
    """Write `path` through a temporary file in the same folder, then rename it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise BadInput(f"{path}: cannot write it ({error.strerror})") from None


# Showing reports


def print_report(console: Console, report: FileReport, *, verbose: bool = False) -> None:
    """A file's verdict, then a table of its findings (failing and needing review first)."""
    verdict = report.verdict
    summary = report.summary()
    counts = [
        f"{summary[level.value]} {level.value}"
        for level in (Verdict.FAIL, Verdict.REVIEW)
        if summary[level.value]
    ]
    header = Text()
    header.append(report.path, style="bold")
    header.append(": ")
    header.append(verdict.value, style=VERDICT_STYLES[verdict])
    header.append(f"  ({report.kind}" + "".join(f"; {count}" for count in counts) + ")")
    console.print(header)
    shown = [
        finding
        for finding in sorted(report.findings, key=lambda finding: -finding.verdict.rank)
        if verbose or finding.verdict is not Verdict.PASS
    ]
    if not shown:
        return
    table = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, expand=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("cell", ratio=1, min_width=12, overflow="fold")
    table.add_column("message", ratio=3, min_width=24)
    table.add_column("numbers", ratio=1, min_width=12, overflow="fold")
    for finding in shown[:FINDINGS_SHOWN]:
        table.add_row(
            finding.rule,
            Text(finding.verdict.value, style=VERDICT_STYLES[finding.verdict]),
            cell_text(finding),
            finding.message,
            "\n".join(f"{name}={_show(value)}" for name, value in finding.numbers.items()),
        )
    console.print(table)
    if len(shown) > FINDINGS_SHOWN:
        console.print(
            Text(
                f"  ... and {len(shown) - FINDINGS_SHOWN} more findings (--json writes them all)",
                style="dim",
            )
        )


def cell_text(finding: Finding) -> str:
    """Where a finding is: the column, the line of the CSV file (the header is line 1) and the
    row's dimension values; empty for a finding on the whole file."""
    cell = finding.cell
    if cell is None:
        return ""
    lines = [cell.column, f"line {cell.row + 2}"]
    lines.extend(f"{name}={value}" for name, value in cell.key.items())
    return "\n".join(lines)


def print_totals(console: Console, reports: Sequence[FileReport]) -> None:
    counts = {verdict: 0 for verdict in Verdict}
    for report in reports:
        counts[report.verdict] += 1
    parts = [
        Text(f"{counts[verdict]} {verdict.value}", style=VERDICT_STYLES[verdict])
        for verdict in Verdict
        if counts[verdict]
    ]
    line = Text(f"{len(reports)} file{_s(len(reports))}: ")
    line.append_text(Text(", ").join(parts))
    console.print(line)


def exit_status(verdicts: Iterable[Verdict]) -> int:
    """0 when all pass, 1 when any fails, 3 when some need review and none fails."""
    overall = worst(verdicts)
    return {Verdict.PASS: EXIT_PASS, Verdict.FAIL: EXIT_FAIL, Verdict.REVIEW: EXIT_REVIEW}[overall]


def _exit(reports: Sequence[FileReport]) -> None:
    _exit_with(exit_status(report.verdict for report in reports))


def _exit_with(code: int) -> None:
    click.get_current_context().exit(code)


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 100_000:
        return f"{value:,}"
    return str(value)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# Starter descriptions


def starter_description(file: Path, rules: Profile) -> dict[str, Any]:
    """The sidecar for `file` as far as the checker can tell, with TODO where only the
    researcher knows: what it is, its population and size, its unit and the controls applied."""
    content: dict[str, Any] = {
        "description": f"{TODO}what {file.name} shows, in one sentence",
    }
    kind = kind_of(file)
    if kind in ("table", "figure"):
        content.update(
            population=f"{TODO}who is counted (e.g. pupils on roll at the trust's secondary "
            "schools in 2023/24)",
            population_size=None,
            unit=f"{TODO}what one unit is: pupil, teacher, class, school",
            controls=f"{TODO}the controls applied, e.g. {rules.describe()}",
        )
    if kind == "table":
        content.update(_table_structure(file, rules))
    elif kind == "figure":
        counts = file.with_suffix(".csv")
        content["counts_file"] = (
            counts.name if counts.exists() else f"{TODO}the CSV file with the counts it shows"
        )
    TableDescription.model_validate(content)
    return content


def _table_structure(file: Path, rules: Profile) -> dict[str, Any]:
    from job_runner.disclosure.tables import is_sensitive, read_table

    table = read_table(file)
    structure: dict[str, Any] = {}
    counts = table.values[table.count_columns].stack().dropna()
    if rules.rounding == "base" and len(counts) and bool((counts % rules.base == 0).all()):
        structure["rounding"] = rules.base
    if table.total_rows:
        label = next(
            str(table.raw.iloc[table.total_rows[0]][name])
            for name in table.dimensions
            if _is_total(table, table.total_rows[0], name)
        )
        structure["total_label"] = label
    columns = {}
    for name, column in table.columns.items():
        if (column.role is Role.DIMENSION or column.role in COUNT_ROLES) and is_sensitive(
            table, name
        ):
            column = column.model_copy(update={"sensitive": True})
        columns[name] = _column_json(column)
    structure["columns"] = columns
    return structure


def _is_total(table: Any, row: int, name: str) -> bool:
    from job_runner.disclosure.tables import is_total_label

    return is_total_label(table.raw.iloc[row][name], table.total_label)


def _column_json(column: ColumnDescription) -> dict[str, Any]:
    return column.model_dump(mode="json", exclude_defaults=True)


def _is_todo(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.startswith(TODO))
