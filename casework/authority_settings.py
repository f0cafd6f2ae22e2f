"""The authority's settings as an administrator changes them in the browser (docs/authority-settings.md).

- Term dates: the authority's terms by academic year; replaced from a CSV file (casework/terms.py's format
  and checks) or one academic year at a time from a form, checked as the whole file would be, so a year
  cannot overlap its neighbours. Either way all the authority's dates are replaced at once
  (:func:`~casework.terms.replace_term_dates`, which also sums attendance per term again).
- Rules: each configurable rule (casework/rules.py) with its label, help and allowed values, read from the
  rules' own schema; changed all together or not at all.

Every change is audited (``authority.term_dates_replaced``, ``authority.rules_changed``) with who made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from marshmallow import validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.models import ProcessDefinition, ProcessInstance
from engine.paging import PAGE_SIZE, Page, check_page, cut

from .records import TERM_NAMES, audit_change
from .rules import AuthorityRules, AuthorityRulesSchema, as_dict, rules_for, set_rules
from .terms import TermRow, check_term_records, has_own_term_dates, replace_term_dates, term_dates_of

# -- term dates ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermYear:
    """One academic year's terms (in date order) and INSET days."""

    academic_year: str
    terms: list[TermRow]
    insets: list[date]

    @property
    def slug(self) -> str:
        """The year as it appears in an address: ``2026-27``."""
        return self.academic_year.replace("/", "-")


def by_year(rows: list[TermRow], insets: list[date]) -> list[TermYear]:
    """Terms and INSET days grouped by academic year, earliest first (an INSET day goes to its term's year)."""
    years: dict[str, TermYear] = {}
    for row in sorted(rows, key=lambda r: r.starts_on):
        years.setdefault(row.academic_year, TermYear(row.academic_year, [], [])).terms.append(row)
    for day in insets:
        year = next((r.academic_year for r in rows if r.starts_on <= day <= r.ends_on), None)
        if year is not None:
            years[year].insets.append(day)
    return list(years.values())


def term_years(session: Session, la_code: str) -> tuple[list[TermYear], bool]:
    """The authority's term dates by year, and whether they are its own (False: the default set)."""
    return by_year(*term_dates_of(session, la_code)), has_own_term_dates(session, la_code)


def academic_year_of_slug(slug: str) -> str | None:
    """``2026-27`` as ``2026/27``; None unless it is a real academic year written so."""
    head, _, tail = slug.partition("-")
    if len(head) == 4 and head.isdigit() and len(tail) == 2 and tail.isdigit() and int(tail) == (int(head) + 1) % 100:
        return f"{head}/{tail}"
    return None


def _described(year: TermYear | None) -> list[str]:
    if year is None:
        return []
    lines = [f"{r.term} {r.starts_on} to {r.ends_on}"
             + (f", half term {r.half_term[0]} to {r.half_term[1]}" if r.half_term else "") for r in year.terms]
    return lines + [f"INSET day {d}" for d in year.insets]


def import_terms(session: Session, at: datetime, actor: str, la_code: str, text: str, filename: str) -> int:
    """Replace the authority's term dates with the CSV ``text``'s (InvalidData by line if any is wrong)."""
    from .terms import parse_term_dates_csv

    rows, insets = parse_term_dates_csv(text)
    written = replace_term_dates(session, la_code, rows, insets)
    audit_change(session, at, actor, "authority.term_dates_replaced", None, {
        "la_code": la_code, "source": "upload", "filename": filename, "terms": len(rows),
        "inset_days": len(insets), "academic_years": sorted({r.academic_year for r in rows})})
    return written


TERM_PARTS = (("starts_on", "term", "starts_on"), ("ends_on", "term", "ends_on"),
              ("half_starts_on", "half_term", "starts_on"), ("half_ends_on", "half_term", "ends_on"))
"""The form's fields for each term: (field suffix, the CSV record's kind, its column)."""
INSET_FIELD = "inset_days"
_FIRST_OTHER_LINE = 1000  # the other years' records are numbered from here, after the form's


def year_form_values(year: TermYear | None) -> dict[str, str]:
    """The form's fields filled in from ``year`` (empty for a year with no dates)."""
    values = {f"{term}-{suffix}": "" for term in TERM_NAMES for suffix, _, _ in TERM_PARTS}
    values[INSET_FIELD] = ""
    if year is None:
        return values
    for row in year.terms:
        values[f"{row.term}-starts_on"], values[f"{row.term}-ends_on"] = str(row.starts_on), str(row.ends_on)
        if row.half_term:
            values[f"{row.term}-half_starts_on"], values[f"{row.term}-half_ends_on"] = map(str, row.half_term)
    values[INSET_FIELD] = "\n".join(str(d) for d in year.insets)
    return values


def _year_records(academic_year: str, form: Mapping[str, str]) -> tuple[list[tuple[int, dict[str, str]]],
                                                                         dict[int, tuple[str, str]]]:
    """The form as CSV records, numbered from 1, and which form field each record's columns came from."""
    records: list[tuple[int, dict[str, str]]] = []
    fields: dict[int, tuple[str, str]] = {}
    for term in TERM_NAMES:
        for kind, (start_suffix, end_suffix) in (("term", ("starts_on", "ends_on")),
                                                 ("half_term", ("half_starts_on", "half_ends_on"))):
            start, end = (form.get(f"{term}-{s}", "").strip() for s in (start_suffix, end_suffix))
            if kind == "half_term" and not (start or end):
                continue
            if kind == "term" and not (start or end or any(form.get(f"{term}-{s}", "").strip()
                                                          for s in ("half_starts_on", "half_ends_on"))):
                continue
            line = len(records) + 1
            records.append((line, {"kind": kind, "academic_year": academic_year, "term": term,
                                   "starts_on": start, "ends_on": end}))
            fields[line] = (f"{term}-{start_suffix}", f"{term}-{end_suffix}")
    for text in form.get(INSET_FIELD, "").split():
        line = len(records) + 1
        records.append((line, {"kind": "inset", "academic_year": "", "term": "", "starts_on": text, "ends_on": ""}))
        fields[line] = (INSET_FIELD, INSET_FIELD)
    return records, fields


def save_year(session: Session, at: datetime, actor: str, la_code: str, academic_year: str,
              form: Mapping[str, str]) -> int:
    """Replace one academic year's terms, half terms and INSET days with the form's (at least one term),
    keeping the other years. InvalidData maps each form field to its reasons."""
    rows, insets = term_dates_of(session, la_code)
    years = by_year(rows, insets)
    before = next((y for y in years if y.academic_year == academic_year), None)
    records, fields = _year_records(academic_year, form)
    if not any(record["kind"] == "term" for _, record in records):
        raise InvalidData({"autumn-starts_on": [
            f"Enter the dates of at least one term of {academic_year} (to remove a year, upload a file without it)"]},
            f"The dates for {academic_year} are not right")
    line = _FIRST_OTHER_LINE
    others: dict[int, str] = {}
    for year in years:
        if year.academic_year == academic_year:
            continue
        for row in year.terms:
            others[line] = f"the {row.term} term of {row.academic_year}"
            records.append((line, {"kind": "term", "academic_year": row.academic_year, "term": row.term,
                                   "starts_on": str(row.starts_on), "ends_on": str(row.ends_on)}))
            line += 1
            if row.half_term:
                records.append((line, {"kind": "half_term", "academic_year": row.academic_year, "term": row.term,
                                       "starts_on": str(row.half_term[0]), "ends_on": str(row.half_term[1])}))
                line += 1
        for day in year.insets:
            records.append((line, {"kind": "inset", "academic_year": "", "term": "", "starts_on": str(day),
                                   "ends_on": ""}))
            line += 1
    try:
        new_rows, new_insets = check_term_records(records, f"The dates for {academic_year} are not right")
    except InvalidData as invalid:
        raise InvalidData(_form_errors(invalid.errors, fields, others), invalid.message) from None
    written = replace_term_dates(session, la_code, new_rows, new_insets)
    after = next((y for y in by_year(new_rows, new_insets) if y.academic_year == academic_year), None)
    audit_change(session, at, actor, "authority.term_dates_replaced", None, {
        "la_code": la_code, "source": "form", "academic_year": academic_year,
        "before": _described(before), "after": _described(after)})
    return written


def _form_errors(errors: Mapping[str, list[str]], fields: Mapping[int, tuple[str, str]],
                 others: Mapping[int, str]) -> dict[str, list[str]]:
    """``"line N, column"`` errors as the form's fields' (an error on another year's term: the first field)."""
    found: dict[str, list[str]] = {}
    first = next(iter(fields.values()), ("autumn-starts_on", ""))[0]
    for key, reasons in errors.items():
        where, _, column = key.partition(", ")
        line = int(where.removeprefix("line ")) if where.removeprefix("line ").isdigit() else 0
        if line in fields:
            name = fields[line][1] if column == "ends_on" else fields[line][0]
        else:
            name = first
            reasons = [f"{reason} ({others.get(line, 'another year')} is already set)" for reason in reasons]
        found.setdefault(name, []).extend(reasons)
    return found


# -- rules ---------------------------------------------------------------------------------------------


RULE_TEXT: dict[str, tuple[str, str]] = {
    "school_place_limit_school_days": (
        "School days without a school place before escalation",
        "How long a child may be without a school place after a move before it is escalated (commonly 10 or 20)."),
    "ks4_move_approver_role": (
        "Who approves a Key Stage 4 move",
        "A change of school in years 10 and 11 (reg. 10): the nominated officer, or in some authorities the VSH."),
    "distant_placement_approver_role": (
        "Who approves a distant placement",
        "Fixed by reg. 11: the Director of Children's Services."),
    "area_notice_working_days": (
        "Working days to tell the area authority of an emergency placement",
        "After an emergency out-of-area placement (reg. 13(4) allows at most 5)."),
    "initial_pep_days": (
        "Days to hold the initial PEP",
        "Counted from the day the child became looked after, in the kind of days chosen below."),
    "initial_pep_day_kind": (
        "Kind of days for the initial PEP",
        "Working days (Monday to Friday, less bank holidays) or school days (term time only)."),
    "school_change_pep_working_days": (
        "Working days to hold a new PEP after a change of school", "Counted from the day the school changed."),
    "termly_review_window": (
        "When the termly PEP review is due",
        "By the last school day before half term, or by the end of the whole term."),
    "direction_chase_working_days": (
        "Working days before chasing an unanswered direction consultation",
        "The admission authority is chased after this many working days without an answer."),
    "esfa_outcome_working_days": (
        "Working days to wait for the ESFA on an academy direction", "Escalated after this many working days."),
    "action_escalation_working_days": (
        "Working days after a PEP action falls due before it is escalated", "0 escalates it at once."),
    "reminder_working_days_before_due": (
        "Working days before a deadline to remind its owner", "0 sends no early reminder."),
}
"""Each rule's label and help text, in the order the form shows them."""

CHOICE_LABELS = {
    "nominated_officer": "The nominated officer", "vsh": "The virtual school head",
    "dcs": "The Director of Children's Services", "working": "Working days", "school": "School days",
    "first_half": "By the end of the first half of the term", "whole_term": "By the end of the term",
}


@dataclass(frozen=True)
class RuleField:
    name: str
    label: str
    help: str
    value: Any
    default: Any
    low: int | None = None
    high: int | None = None
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def allowed(self) -> str:
        if self.choices:
            return "one of: " + ", ".join(label for _, label in self.choices)
        return f"a whole number from {self.low} to {self.high}"


def rule_fields(session: Session, la_code: str) -> list[RuleField]:
    """Every rule with its current value, default and allowed values (from the rules' schema)."""
    current, defaults = as_dict(rules_for(session, la_code)), as_dict(AuthorityRules())
    schema = AuthorityRulesSchema()
    found = []
    for name, (label, help_text) in RULE_TEXT.items():
        field: Any = schema.fields[name]
        numbers = [v for v in field.validators if isinstance(v, validate.Range)]
        options = [v for v in field.validators if isinstance(v, validate.OneOf)]
        found.append(RuleField(
            name, label, help_text, current[name], defaults[name],
            low=numbers[0].min if numbers else None, high=numbers[0].max if numbers else None,
            choices=tuple((str(c), CHOICE_LABELS.get(str(c), str(c))) for c in options[0].choices) if options else ()))
    return found


def change_rules(session: Session, at: datetime, actor: str, la_code: str, form: Mapping[str, str]) -> dict[str, Any]:
    """Set every rule to the form's value; the rules that changed, as {name: [was, now]} (audited).
    InvalidData names each bad field and what it allows; nothing changes then."""
    fields = {f.name: f for f in rule_fields(session, la_code)}
    parsed: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, field in fields.items():
        text = (form.get(name) or "").strip()
        if not text:
            errors[name] = [f"Enter {field.allowed}" if not field.choices else f"Choose {field.allowed}"]
        elif field.choices:
            parsed[name] = text
        elif text.lstrip("-").isdigit() and len(text) <= 6:
            parsed[name] = int(text)
        else:
            errors[name] = [f"Enter {field.allowed}, not {text[:20]!r}"]
    for name, messages in AuthorityRulesSchema().validate(parsed).items():  # every bad field at once
        errors[name] = [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
    if errors:
        raise InvalidData(errors, "The rules were not changed")
    changed = {name: [fields[name].value, value] for name, value in parsed.items() if fields[name].value != value}
    if changed:
        set_rules(session, la_code, {name: parsed[name] for name in changed})
        audit_change(session, at, actor, "authority.rules_changed", None, {"la_code": la_code, "changes": changed})
    return changed


# -- process definitions -------------------------------------------------------------------------------


def definition_versions(session: Session, number: int, size: int = PAGE_SIZE) -> Page[Any]:
    """One page of every deployed version of every process, newest version first within each process,
    each with how many of its cases are running and how many there are in all (counted in SQL)."""
    check_page(number, size)
    counts = (select(ProcessInstance.definition_id.label("definition_id"),
                     func.count().label("cases"),
                     func.count().filter(ProcessInstance.status == "running").label("running"))
              .group_by(ProcessInstance.definition_id).subquery())
    query = (select(ProcessDefinition.id, ProcessDefinition.process_id, ProcessDefinition.name,
                    ProcessDefinition.version, ProcessDefinition.filename, ProcessDefinition.content_sha256,
                    ProcessDefinition.deployed_at, ProcessDefinition.deployed_by,
                    func.coalesce(counts.c.running, 0).label("running"),
                    func.coalesce(counts.c.cases, 0).label("cases"))
             .outerjoin(counts, counts.c.definition_id == ProcessDefinition.id)
             .order_by(ProcessDefinition.process_id, ProcessDefinition.version.desc(), ProcessDefinition.id)
             .offset((number - 1) * size).limit(size + 1))
    return cut(session.execute(query).all(), number, size)
