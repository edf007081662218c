"""Check one code list file (schema/codelists/<name>.yaml) and build its `Codelist`."""

from __future__ import annotations

from typing import Any

from schema.models import Code, Codelist
from schema.problems import FileProblems
from schema.table_file import check_description, check_file_name
from schema.words import did_you_mean, is_name, show, unknown_key
from schema.yaml_lines import LineDict, LineList

CODELIST_KEYS = ("name", "description", "categories", "codes")
CODE_KEYS = ("code", "description", "category")


def check_codelist_file(document: Any, stem: str, report: FileProblems) -> Codelist | None:
    """Check a parsed code list file; return its Codelist, or None when the file has problems."""
    if not isinstance(document, LineDict):
        report.add(1, "a code list file must be a mapping with keys name, description, codes")
        return None
    for key in document:
        if key not in CODELIST_KEYS:
            report.add(document.key_lines[key], unknown_key(key, "", CODELIST_KEYS))
    name = check_file_name(document, stem, report)
    description = check_description(document, "", report, required=True, line=document.line)
    categories = _categories(document, report)
    codes = _codes(document, categories, report)
    if report or name is None or description is None or categories is None or codes is None:
        return None
    return Codelist(name=name, description=description, categories=categories, codes=codes)


def _categories(document: LineDict, report: FileProblems) -> dict[str, str] | None:
    """The optional `categories` mapping: category name -> description. {} when not given."""
    if "categories" not in document:
        return {}
    value = document["categories"]
    line = document.key_lines["categories"]
    if not isinstance(value, LineDict) or not value:
        report.add(line, "categories must be a non-empty mapping of category name to description")
        return None
    categories: dict[str, str] = {}
    for name, text in value.items():
        item_line = value.key_lines[name]
        if not is_name(name):
            report.add(item_line, f"category name {show(name)} must be lower_snake_case")
        elif not isinstance(text, str) or not text.strip():
            report.add(item_line, f"category '{name}' needs a description")
        else:
            categories[name] = text.strip()
    return categories


def _codes(
    document: LineDict, categories: dict[str, str] | None, report: FileProblems
) -> tuple[Code, ...] | None:
    if "codes" not in document:
        report.add(document.line, "missing key 'codes'")
        return None
    value = document["codes"]
    if not isinstance(value, LineList) or not value:
        report.add(document.key_lines["codes"], "codes must be a non-empty list")
        return None
    codes: list[Code] = []
    first_lines: dict[str, int] = {}
    for item, line in zip(value, value.item_lines, strict=True):
        code = _code(item, line, categories, report)
        if code is None:
            continue
        if code.code in first_lines:
            report.add(
                line, f"duplicate code '{code.code}' (first given on line {first_lines[code.code]})"
            )
            continue
        first_lines[code.code] = line
        codes.append(code)
    return tuple(codes)


def _code(
    item: Any, line: int, categories: dict[str, str] | None, report: FileProblems
) -> Code | None:
    """One entry of `codes`: {code, description, category}."""
    if not isinstance(item, LineDict):
        report.add(line, "each code must be a mapping with keys code and description")
        return None
    before = len(report.problems)
    for key in item:
        if key not in CODE_KEYS:
            report.add(item.key_lines[key], unknown_key(key, " in a code", CODE_KEYS))
    code = item.get("code")
    if "code" not in item:
        report.add(line, "missing key 'code'")
    elif not isinstance(code, str) or not code:
        report.add(
            item.key_lines["code"], f"code {show(code)} must be a non-empty string (quote it)"
        )
    where = f" of code '{code}'" if isinstance(code, str) else ""
    description = check_description(item, where, report, required=True, line=line)
    category = _category(item, where, line, categories, report)
    if len(report.problems) != before:
        return None
    return Code(code=code, description=description, category=category)


def _category(
    item: LineDict, where: str, line: int, categories: dict[str, str] | None, report: FileProblems
) -> str | None:
    """A code's category: required when the list has categories, forbidden otherwise."""
    value = item.get("category")
    if categories is None:  # the list's categories are broken, already reported
        return None
    if not categories:
        if "category" in item:
            report.add(
                item.key_lines["category"],
                f"category{where} is not allowed: the code list has no categories",
            )
        return None
    if "category" not in item:
        report.add(line, f"missing key 'category'{where}")
    elif not isinstance(value, str) or value not in categories:
        report.add(
            item.key_lines["category"],
            f"unknown category {show(value)}{where}{did_you_mean(value, categories)}",
        )
    return value
