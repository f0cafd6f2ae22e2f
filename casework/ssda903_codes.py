"""The code tables of the SSDA903 return (children looked after) and how each maps to the project's records.

Codes and meanings are those of the DfE's SSDA903 guidance; docs/import-children.md shows the same tables.
"""

from __future__ import annotations

import re

from .records import LEGAL_STATUSES, values

LEGAL_STATUS_CODES: dict[str, str] = {code: code for code in values(LEGAL_STATUSES)}
"""``LS`` -> the child's legal status: the project records the SSDA903 code itself (casework/records.py)."""

PLACEMENT_CODES: dict[str, tuple[str, str]] = {
    "A3": ("adoption", "Placed for adoption with consent, with current foster carer(s)"),
    "A4": ("adoption", "Placed for adoption with consent, not with current foster carer(s)"),
    "A5": ("adoption", "Placed for adoption with a placement order, with current foster carer(s)"),
    "A6": ("adoption", "Placed for adoption with a placement order, not with current foster carer(s)"),
    "H5": ("semi_independent", "Semi-independent living accommodation not subject to children's homes regulations"),
    "K1": ("childrens_home", "Secure children's home"),
    "K2": ("childrens_home", "Children's home subject to Children's Homes Regulations"),
    "P1": ("placed_with_parents", "Placed with own parent(s) or other person(s) with parental responsibility"),
    "P2": ("semi_independent", "Independent living (flat, lodgings, bedsit, B&B or with friends)"),
    "P3": ("other", "Residential employment"),
    "R1": ("other", "Residential care home"),
    "R2": ("other", "NHS/health trust or other establishment providing medical or nursing care"),
    "R3": ("other", "Family centre or mother and baby unit"),
    "R5": ("other", "Young offender institution or prison"),
    "S1": ("residential_school", "Residential school (not dual-registered as a children's home)"),
    "T0": ("other", "Temporary placement of no more than 7 days (all types)"),
    "T1": ("other", "Temporary periods in hospital"),
    "T2": ("other", "Temporary periods of absence (holiday)"),
    "T3": ("other", "Temporary accommodation while the normal foster carer is unavailable"),
    "T4": ("other", "Temporary accommodation of 7 days or less, for any other reason"),
    "U1": ("kinship_care", "Foster placement with relative or friend: long-term fostering"),
    "U2": ("kinship_care", "Foster placement with relative or friend who is also an approved adopter (FFA)"),
    "U3": ("kinship_care", "Foster placement with relative or friend: not long-term or FFA"),
    "U4": ("foster_care", "Foster placement with other foster carer: long-term fostering"),
    "U5": ("foster_care", "Foster placement with other foster carer who is also an approved adopter (FFA)"),
    "U6": ("foster_care", "Foster placement with other foster carer: not long-term or FFA"),
    "Z1": ("other", "Other placement"),
}
"""``PLACE`` -> (the project's placement type, the DfE meaning). Foster placements provided by another body
(``PLACE_PROVIDER`` PR4/PR5) are recorded as agency foster care: see :func:`placement_type`."""

PROVIDER_CODES: dict[str, str] = {
    "PR0": "Parent(s) or other person(s) with parental responsibility",
    "PR1": "Own provision (by the council)",
    "PR2": "Other local authority provision",
    "PR3": "Other public provision (for example a health trust)",
    "PR4": "Private provision",
    "PR5": "Voluntary or third sector provision",
}
"""``PLACE_PROVIDER``: who provides the placement (recorded with the placement as its provider)."""

NEW_EPISODE_CODES: dict[str, str] = {
    "S": "Started to be looked after",
    "L": "Change of legal status only",
    "P": "Change of placement only",
    "T": "Change of legal status and placement at the same time",
    "U": "Change of legal status and placement, not at the same time",
}
"""``RNE``: why an episode began. ``S`` starts a period of care; ``S``, ``P``, ``T`` and ``U`` start a placement."""
STARTS_CARE = "S"
STARTS_PLACEMENT = frozenset({"S", "P", "T", "U"})

CONTINUES = "X1"
ENDED_CODES: dict[str, str] = {
    "X1": "Episode ends and a new one begins the same day (the child stays looked after)",
    "E11": "Adopted: application for an adoption order unopposed",
    "E12": "Adopted: consent dispensed with by the court",
    "E13": "Left care to live with parent(s), relative(s) or other person(s) with no parental responsibility",
    "E14": "Accommodation on remand ended",
    "E15": "Age assessment determined the child is 18 or over",
    "E16": "Child moved abroad",
    "E17": "Aged 18 (or over) and remained with current carers (including staying put)",
    "E2": "Died",
    "E3": "Care taken over by another local authority",
    "E41": "Residence order or child arrangements order granted",
    "E45": "Special guardianship order made to former foster carer(s), who were relatives or friends",
    "E46": "Special guardianship order made to former foster carer(s), other than relatives or friends",
    "E47": "Special guardianship order made to carer(s), not former foster carer(s), who are relatives or friends",
    "E48": "Special guardianship order made to carer(s), not former foster carer(s), other than relatives or friends",
    "E4A": "Returned home to live with parent(s) or other person(s) with parental responsibility, as part of the care plan",
    "E4B": "Returned home to live with parent(s) or other person(s) with parental responsibility, not part of the care plan",
    "E5": "Moved into independent living arrangement with formalised support",
    "E6": "Moved into independent living arrangement without formalised support",
    "E7": "Transferred to residential care funded by adult social care services",
    "E8": "Period of being looked after ceased for any other reason",
    "E9": "Sentenced to custody",
}
"""``REC``: why an episode ended. Every code but ``X1`` ends the period of care: the child leaves care."""

SEX_CODES = {"1": "Male", "2": "Female"}
"""``SEX``: checked, not kept (the project records no sex or ethnicity)."""
UNKNOWN_UPN = re.compile(r"^UN([1-9]|10)$")
"""``UPN`` UN1-UN10: the reason a child has no UPN (the child is recorded without one)."""
NOT_APPLICABLE = "XXXXXXX"
"""``URN`` and the postcodes: not applicable (no Ofsted URN; no postcode)."""
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})?$")
"""A UK postcode, or its district alone: only the district (the outward code) is ever kept."""

PEP_START_CHOICES: dict[str, str] = {
    "next_termly": "No PEP at import: their next termly review opens as for every child (the default)",
    "initial_now": "An initial PEP now, due the authority's initial PEP days after the import",
}
"""How the PEPs of children already in care at import start (children new to care: as added by hand)."""
DEFAULT_PEP_START = "next_termly"


def placement_type(place: str, provider: str) -> str:
    """The project's placement type for a ``PLACE`` code and its ``PLACE_PROVIDER``."""
    chosen = PLACEMENT_CODES[place][0]
    if chosen == "foster_care" and provider in ("PR4", "PR5"):
        return "agency_foster_care"
    return chosen


def postcode_district(text: str) -> str | None:
    """The district (outward code) of a postcode, like ``LS6`` for ``LS6 2AB``; None if not a postcode."""
    found = POSTCODE.fullmatch(" ".join(text.upper().split()))
    return found.group(1) if found else None
