"""The demo authority's whole Virtual School: about 600 children generated from a seed, so the cohort
dashboard and the roll say something on first sight (``vsw demo`` loads it after the named demo).

Deterministic (``random.Random(seed)`` and the day of loading decide everything) and quick: rows go in
by bulk inserts in batches (docs/cohort.md, "The demo cohort", says how long it takes). The spreads follow
the national figures for children looked after (DfE, "Children looked after in England including
adoptions"): ages 0-17 weighted to teenagers, most on full care orders, about one in six placed out of
area, about 30% on SEN support and 25% with an EHC plan; weekly attendance over two years with about 12%
persistently and 2% severely absent; about 10% suspended; termly attainment; post-16 EET; some who left
care this year. Their PEPs are rows in every state, with no running process (the named children C-1001 to
C-1007 keep their real ones); every child due a termly PEP has this term's row (or an initial PEP due this
term), so the termly job opens nothing for them. Loading again adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock

from . import attendance_summary
from .lifecycle import end_of_day
from .records import Child, Pep, Placement, School
from .rules import calendar_for, termly_review_due_on
from .school_data import Attainment, AttendanceRecord, EetStatus, Suspension
from .schoolyear import academic_year_label, academic_year_start, age_on, pep_stage, year_group
from .terms import Term, terms_between
from .upn import check_letter
from .users import User, production_hasher

SEED = 2026
FIRST = ["Aaliyah", "Ben", "Caleb", "Daisy", "Eli", "Freya", "George", "Hana", "Isaac", "Jade", "Kai", "Layla",
         "Mason", "Nadia", "Oscar", "Poppy", "Reuben", "Sofia", "Theo", "Una", "Vinnie", "Willow", "Yusuf", "Zara",
         "Alfie", "Bella", "Callum", "Demi", "Ellis", "Faith", "Harvey", "Imani", "Jack", "Keira", "Leo", "Maya"]
LAST = ["Adams", "Bailey", "Carter", "Dixon", "Ellis", "Foster", "Gray", "Hughes", "Iqbal", "Jones", "Kelly",
        "Lewis", "Mensah", "Novak", "O'Brien", "Patel", "Quinn", "Roberts", "Singh", "Taylor", "Usman", "Vaughan",
        "Wood", "Young", "Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hall", "Nowak", "Ward"]
TEAMS = ["Children in Care North", "Children in Care South", "Children in Care East", "Leaving Care 16+"]
# age weights 0..17: the national spread (under 1 about 5%, 1-4 14%, 5-9 17%, 10-15 38%, 16-17 26%)
AGE_WEIGHTS = [5, 3.5, 3.5, 3.5, 3.5, 3.4, 3.4, 3.4, 3.4, 3.4, 6.3, 6.3, 6.3, 6.3, 6.4, 6.4, 13, 13]
LEGAL = [("C2", 62), ("V2", 16), ("C1", 11), ("E1", 8), ("J1", 1), ("L2", 1), ("D1", 1)]
PLACEMENTS = [("foster_care", 50), ("agency_foster_care", 20), ("kinship_care", 13), ("childrens_home", 9),
              ("semi_independent", 4), ("placed_with_parents", 2), ("residential_school", 1), ("adoption", 1)]
SEN = [("none", 42), ("sen_support", 30), ("ehc_plan", 25), ("assessment_in_progress", 3)]
PEP_NOW = [("not_started", 22), ("in_progress", 24), ("submitted", 14), ("returned", 8), ("complete", 32)]
EET = [("education", 60), ("training", 10), ("employment", 5), ("neet", 20), ("unknown", 5)]
OTHER_LAS = [("936", "Northshire"), ("937", "Eastvale"), ("938", "Westmarsh"), ("939", "Far Downs")]
# (type, phase, how many): about 60 schools of every type and phase, in and out of the authority's area
SCHOOL_MIX = [("maintained", "primary", 18), ("academy", "primary", 8), ("maintained", "secondary", 5),
              ("academy", "secondary", 10), ("la_special", "all-through", 4), ("independent", "all-through", 3),
              ("early_years_setting", "nursery", 6), ("further_education", "16 plus", 4)]
SCHOOL_NAMES = ["Meadow", "Brook", "Castle", "Ash", "Elm", "Kingsway", "Millfield", "Harbour", "Orchard", "Valley"]
SUFFIX = {"primary": "Primary School", "secondary": "High School", "all-through": "School",
          "nursery": "Nursery", "16 plus": "College"}
BATCH = 5000


@dataclass(frozen=True)
class Cohort:
    """What to generate: how many children, from which seed, how many weeks of attendance back from today."""

    la_code: str = "935"
    size: int = 600
    seed: int = SEED
    weeks: int = 104
    every_week: bool = False  # the benchmark's volume: a row for every week of every child, holidays too
    first_ref: int = 2001
    first_urn: int = 110000


@dataclass
class CohortSummary:
    children: int = 0
    users: int = 0
    schools: int = 0
    attendance: int = 0
    peps: int = 0


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _batches(session: Session, table: Any, rows: Iterable[dict[str, Any]]) -> int:
    done, remaining = 0, iter(rows)
    while batch := list(islice(remaining, BATCH)):
        session.execute(insert(table), batch)
        done += len(batch)
    return done


def load_demo_cohort(session: Session, clock: Clock, hasher: PasswordHasher | None = None,
                     cohort: Cohort = Cohort(), password: str = "demo-password-2026",
                     write: Callable[[Session, Any, Iterator[dict[str, Any]]], int] | None = None,
                     ) -> CohortSummary:
    """Load the cohort (schools, social workers, children and their records); adds nothing twice.

    ``write(session, table, rows)`` writes the records (default: inserts in batches; the benchmark's COPYs)."""
    write = write or _batches
    now = clock.now()
    today = now.date()
    rng = random.Random(cohort.seed)
    summary = CohortSummary()
    schools = _schools(rng, cohort)
    known = set(session.scalars(select(School.urn).where(School.urn.in_([s["urn"] for s in schools]))))
    summary.schools = _batches(session, School, (s for s in schools if s["urn"] not in known))
    workers = _social_workers(cohort, now)
    existing = set(session.scalars(select(User.username).where(User.username.in_([w["username"] for w in workers]))))
    new_workers = [w for w in workers if w["username"] not in existing]
    if new_workers:
        hashed = (hasher or production_hasher()).hash(password)  # one hash for all: the same demo password
        summary.users = _batches(session, User, ({**w, "password_hash": hashed} for w in new_workers))
    first_ref = f"C-{cohort.first_ref}"
    if session.scalars(select(Child.id).where(Child.ref == first_ref)).first() is not None:
        return summary
    children = _children(rng, cohort, today, now, schools, workers)
    ids = session.execute(insert(Child).returning(Child.id, Child.ref), [c["row"] for c in children]).all()
    by_ref = {ref: child_id for child_id, ref in ids}
    for child in children:
        child["id"] = by_ref[child["row"]["ref"]]
    placements = [{**c["placement"], "child_id": c["id"]} for c in children]
    placement_ids = session.execute(insert(Placement).returning(Placement.id, Placement.child_id), placements).all()
    session.execute(update(Child), [{"id": child_id, "current_placement_id": pid} for pid, child_id in placement_ids])
    summary.children = len(children)
    terms = [t for t in terms_between(session, cohort.la_code, today - timedelta(weeks=cohort.weeks), today)
             if t.starts_on <= today]
    dues = {term: end_of_day(termly_review_due_on(session, cohort.la_code, term)) for term in terms}
    summary.peps = write(session, Pep, _peps(rng, children, terms, dues, now))
    rows = _attendance(rng, children, _weeks(session, cohort, today), cohort, now)  # weeks first: no query mid-COPY
    summary.attendance = write(session, AttendanceRecord, rows)
    attendance_summary.refresh(session, cohort.la_code, [c["id"] for c in children])
    write(session, Suspension, _suspensions(rng, children, today, now))
    write(session, Attainment, _attainment(rng, children, terms, now))
    write(session, EetStatus, _eet(rng, children, today, now))
    session.flush()
    return summary


def _schools(rng: random.Random, cohort: Cohort) -> list[dict[str, Any]]:
    rows, n = [], 0
    for kind, phase, many in SCHOOL_MIX:
        for i in range(many):
            in_area = i % 3 != 2  # two in three in the authority's own area
            la = cohort.la_code if in_area else OTHER_LAS[i % len(OTHER_LAS)][0]
            place = "" if in_area else f"{OTHER_LAS[i % len(OTHER_LAS)][1]} "
            name = f"{place}{SCHOOL_NAMES[n % len(SCHOOL_NAMES)]} {'Academy' if kind == 'academy' else ''}"
            rows.append({"urn": str(cohort.first_urn + n), "name": f"{name.strip()} {SUFFIX[phase]} {n + 1}",
                         "school_type": kind, "la_is_admission_authority": kind in ("maintained", "la_special"),
                         "la_code": la, "phase": phase})
            n += 1
    rng.shuffle(rows)
    return rows


def _social_workers(cohort: Cohort, now: datetime) -> list[dict[str, Any]]:
    per_team = max(2, cohort.size // (30 * len(TEAMS)))  # caseloads of about 30
    rows: list[dict[str, Any]] = []
    for t, team in enumerate(TEAMS):
        for i in range(per_team):
            first, last = FIRST[(t * 7 + i * 5) % len(FIRST)], LAST[(t * 11 + i * 3) % len(LAST)]
            username = f"{first}.{last}".lower().replace("'", "")
            username += str(len(rows)) if any(r["username"] == username for r in rows) else ""
            rows.append({"username": username, "display_name": f"{first} {last}", "team": team,
                         "email": f"{username}@demo-council.example", "roles": "social_worker",
                         "la_code": cohort.la_code, "school_urn": None, "active": True, "created_at": now})
    return rows


def _school_for(rng: random.Random, schools: list[dict[str, Any]], la: str, year: int, sen: str,
                out_of_area: bool) -> str | None:
    phase = ("nursery" if year < 0 else "primary" if year <= 6 else "secondary" if year <= 11 else "16 plus")
    if sen == "ehc_plan" and 0 <= year <= 13 and rng.random() < 0.4:
        phase = "all-through"
    fits = [s for s in schools if (s["phase"] == phase or (phase == "16 plus" and s["phase"] == "secondary"))
            and (s["la_code"] != la) == out_of_area] or [s for s in schools if s["phase"] == phase]
    return str(rng.choice(fits)["urn"])


def _children(rng: random.Random, cohort: Cohort, today: date, now: datetime, schools: list[dict[str, Any]],
              workers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    year_start = academic_year_start(today)
    children: list[dict[str, Any]] = []
    leaving = [w["username"] for w in workers if w["team"] == TEAMS[-1]]  # the 16+ team has the 16-17s
    others = [w["username"] for w in workers if w["team"] != TEAMS[-1]]
    caseloads = {True: 0, False: 0}
    for n in range(cohort.size):
        age = rng.choices(range(18), AGE_WEIGHTS)[0]
        born = today - timedelta(days=365 * age + 3 + rng.randrange(360))
        year = year_group(born, today)
        days = rng.randrange(2, 30 * max(2, min(age * 12, 120)))  # up to ten years in care
        since = min(today, max(born + timedelta(days=2), today - timedelta(days=days)))
        sen = "none" if age < 3 else pick(rng, SEN)
        distance = rng.choices(["in_area", "out_of_area_adjoining", "out_of_area_distant"], [83, 11, 6])[0]
        out = distance != "in_area"
        school = None
        if year >= -2 and not (year >= 12 and rng.random() < 0.25) and not (0 <= year and rng.random() < 0.03):
            school = _school_for(rng, schools, cohort.la_code, year, sen, out and rng.random() < 0.8)
        left = None
        if rng.random() < 0.05 and since < year_start and today > year_start:
            left = year_start + timedelta(days=rng.randrange((today - year_start).days))
        upn = None
        if year >= 0:
            body = f"{cohort.la_code}{2100 + n // 1000:04d}{born.year % 100:02d}{n % 1000:03d}"
            upn = check_letter(body) + body
        area = OTHER_LAS[n % len(OTHER_LAS)][1] + " Council" if out else None
        team = leaving if age >= 16 else others
        worker, caseloads[age >= 16] = team[caseloads[age >= 16] % len(team)], caseloads[age >= 16] + 1
        kind = "semi_independent" if age >= 16 and rng.random() < 0.3 else pick(rng, PLACEMENTS)
        placed = max(since, today - timedelta(days=rng.randrange(1, 900)))
        placed = min(placed, left - timedelta(days=1)) if left else placed  # a placement ends when care does
        children.append({"age": age, "year": year, "left": left, "school": school, "row": {
            "ref": f"C-{cohort.first_ref + n}", "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST),
            "date_of_birth": born, "upn": upn, "legal_status": pick(rng, LEGAL), "looked_after_since": since,
            "la_code": cohort.la_code, "social_worker": worker, "school_urn": school,
            "current_placement_id": None, "left_care_on": left, "sen_status": sen,
            "created_at": now, "updated_at": now}, "placement": {
            "placement_type": kind, "carer_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "starts_on": placed, "ends_on": left,
            "distance": distance, "area_authority": area}})
    return children


def _peps(rng: random.Random, children: list[dict[str, Any]], terms: list[Term], dues: dict[Term, datetime],
          now: datetime) -> Iterator[dict[str, Any]]:
    current = terms[-1] if terms else None
    for child in children:
        row = child["row"]
        initial = _initial_pep(rng, child, terms, now) if terms else None
        if initial is not None:
            yield initial
        for term in terms:
            age = age_on(row["date_of_birth"], term.starts_on)
            if age < 2 or row["looked_after_since"] > term.ends_on or (
                    initial is not None and term.starts_on <= initial["due_at"].date() <= term.ends_on):
                continue  # too young, not yet in care, or the initial PEP is this term's
            due = dues[term]
            status = pick(rng, PEP_NOW) if term is current else ("complete" if rng.random() < 0.92 else "in_progress")
            if child["left"] is not None and term is current:
                status = "complete"
            rag = {"complete": rng.choice(["green", "green", "amber"]), "returned": "red",
                   "submitted": rng.choice([None, "green", "amber", "red"])}.get(status)
            yield {"child_id": child["id"], "kind": "termly", "academic_year": term.academic_year, "term": term.term,
                   "stage": pep_stage(row["date_of_birth"], term.starts_on), "status": status, "rag": rag,
                   "return_reason": "The targets are not SMART: say what will be achieved by when."
                   if status == "returned" else None, "feedback": None, "sections": "{}", "due_at": due,
                   "completed_at": min(due, now) - timedelta(days=rng.randrange(1, 20))
                   if status == "complete" else None,
                   "instance_id": None, "created_at": datetime.combine(term.starts_on, now.timetz())}


def _initial_pep(rng: random.Random, child: dict[str, Any], terms: list[Term], now: datetime) -> dict[str, Any] | None:
    """The PEP due within 20 school days (about four weeks) of coming into care, for those who came in lately."""
    row = child["row"]
    since = row["looked_after_since"]
    if since < terms[0].starts_on or age_on(row["date_of_birth"], since) < 2:
        return None
    due = end_of_day(since + timedelta(days=28))
    if due <= now:
        done = rng.random() < 0.85
        status, finished = ("complete", min(now, due + timedelta(days=rng.randrange(-18, 6)))) if done else (
            "in_progress", None)
    else:
        status, finished = rng.choice(["not_started", "in_progress", "submitted"]), None
    return {"child_id": child["id"], "kind": "initial", "academic_year": academic_year_label(since), "term": None,
            "stage": pep_stage(row["date_of_birth"], since), "status": status,
            "rag": rng.choice(["green", "amber"]) if finished else None, "return_reason": None, "feedback": None,
            "sections": "{}", "due_at": due, "completed_at": finished, "instance_id": None,
            "created_at": datetime.combine(since, now.timetz())}


def _weeks(session: Session, cohort: Cohort, today: date) -> list[tuple[date, int]]:
    """(Monday, possible sessions) of each week with school days, oldest first: two sessions a school day."""
    calendar = calendar_for(session, cohort.la_code)
    covered = [t for t in terms_between(session, cohort.la_code, date(1900, 1, 1), date(2999, 1, 1))]
    first_covered = covered[0].starts_on if covered else today
    monday = today - timedelta(days=today.weekday())
    weeks = []
    for back in range(cohort.weeks, 0, -1):
        start = monday - timedelta(weeks=back)
        if cohort.every_week:
            weeks.append((start, 10))
            continue
        shifted = start
        while shifted < first_covered and covered:
            shifted += timedelta(weeks=52)  # before the calendar's first term: as the same week a year on
        days = sum(calendar.is_school_day(shifted + timedelta(days=d)) for d in range(5)) if covered else 5
        if days:
            weeks.append((start, 2 * days))
    return weeks


def _attendance(rng: random.Random, children: list[dict[str, Any]], weeks: list[tuple[date, int]], cohort: Cohort,
                now: datetime) -> Iterator[dict[str, Any]]:
    slots = list(range(100))
    rng.shuffle(slots)  # in every 100 children with a school: 2 severely absent, 10 more persistently
    for child in (c for c in children if cohort.every_week or (c["school"] is not None and c["year"] >= 0)):
        band, slots = slots[0] / 100, slots[1:] + slots[:1]
        rate = 0.40 if band < 0.02 else 0.84 if band < 0.12 else rng.uniform(0.945, 0.995)
        spread = (rate * (1 - rate)) ** 0.5  # a binomial's, sessions missed independently
        born, since = child["row"]["date_of_birth"], child["row"]["looked_after_since"]
        for start, possible in weeks:
            if not cohort.every_week and (start < since or year_group(born, start) < 0):
                continue
            missed = min(possible, max(0, round(rng.gauss(possible * (1 - rate), spread * possible ** 0.5))))
            attended, unauthorised = possible - missed, round(missed * 0.4)
            yield {"child_id": child["id"], "period_start": start, "period_end": start + timedelta(days=4),
                   "possible_sessions": possible, "attended_sessions": attended,
                   "authorised_absence": missed - unauthorised, "unauthorised_absence": unauthorised,
                   "school_urn": child["school"], "source": "import", "recorded_at": now}


def _suspensions(rng: random.Random, children: list[dict[str, Any]], today: date,
                 now: datetime) -> Iterator[dict[str, Any]]:
    reasons = ["PD", "PD", "PD", "VP", "VA", "PA", "PP", "DM", "DA", "OT"]
    for child in children:
        if child["school"] is None or child["year"] < 1 or rng.random() >= 0.10:
            continue
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            kind = "permanent_exclusion" if rng.random() < 0.02 else "suspension"
            day = today - timedelta(days=rng.randrange(1, 420))
            yield {"child_id": child["id"], "kind": kind, "school_urn": child["school"],
                   "starts_on": day - timedelta(days=max(0, day.weekday() - 4)),  # a weekday
                   "days": 0.0 if kind != "suspension" else float(rng.choice([0.5, 1, 1, 2, 3, 5])),
                   "reason": rng.choice(reasons), "recorded_at": now, "recorded_by": "import"}


def _attainment(rng: random.Random, children: list[dict[str, Any]], terms: list[Term],
                now: datetime) -> Iterator[dict[str, Any]]:
    levels = ["below", "towards", "expected", "greater_depth"]
    for child in children:
        if child["school"] is None:
            continue
        ability = rng.choice([0, 1, 1, 2, 2, 2, 3])
        born = child["row"]["date_of_birth"]
        for term in terms:
            year = year_group(born, term.starts_on)
            base = {"child_id": child["id"], "academic_year": term.academic_year, "term": term.term,
                    "recorded_at": now}
            if 1 <= year <= 9:
                for subject in ("reading", "writing", "maths"):
                    value = levels[max(0, min(3, ability + rng.choice([-1, 0, 0, 0, 1])))]
                    yield {**base, "subject": subject, "kind": "teacher_assessment", "value": value,
                           "target": levels[min(3, ability + 1)]}
            elif 10 <= year <= 11:
                for subject in ("english", "maths"):
                    grade = max(1, min(9, 2 * ability + rng.choice([0, 1, 2])))
                    yield {**base, "subject": subject, "kind": "gcse_working_at", "value": str(grade),
                           "target": str(min(9, grade + 1))}
            if term.term == "summer" and year == 11:
                for subject in ("english", "maths"):
                    yield {**base, "subject": subject, "kind": "ks_result", "target": None,
                           "value": str(max(1, min(9, 2 * ability + rng.choice([-1, 0, 1]))))}
            elif term.term == "summer" and year in (0, 6):
                subjects = ["gld"] if year == 0 else ["reading", "writing", "maths"]
                for subject in subjects:
                    met = rng.random() < 0.3 + 0.15 * ability
                    yield {**base, "subject": subject, "kind": "ks_result",
                           "value": "met" if met else "not_met", "target": None}


def _eet(rng: random.Random, children: list[dict[str, Any]], today: date,
         now: datetime) -> Iterator[dict[str, Any]]:
    for child in children:
        if child["age"] >= 16:
            yield {"child_id": child["id"], "recorded_on": today - timedelta(days=rng.randrange(1, 60)),
                   "status": "education" if child["school"] else pick(rng, EET[1:]), "recorded_at": now}
