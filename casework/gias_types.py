"""How a GIAS establishment type becomes one of the project's school types, and who admits to it.

The keys are the DfE's ``TypeOfEstablishment (name)`` values as published in the "Get Information about
Schools" establishment download. Each maps to ``(school_type, la_is_admission_authority)``: community and
voluntary-controlled schools (and the LA's special schools, nursery schools and pupil referral units) are
admitted to by the local authority; academies, free schools, foundation and voluntary-aided schools,
independent schools and colleges are their own admission authority. docs/import-schools.md has the table.

Types that are not a place a child is educated in England (children's centres, universities, Welsh and
overseas establishments...) are in :data:`NOT_SCHOOLS`: their rows are passed over and counted. A type in
neither is passed over too and named in the preview, so a type the DfE adds never stops an import.
"""

from __future__ import annotations

LA = True
OWN_BODY = False

ESTABLISHMENT_TYPES: dict[str, tuple[str, bool]] = {
    # LA-maintained mainstream schools
    "Community school": ("maintained", LA),
    "Voluntary controlled school": ("maintained", LA),
    "Voluntary aided school": ("maintained", OWN_BODY),
    "Foundation school": ("maintained", OWN_BODY),
    "Pupil referral unit": ("maintained", LA),
    # LA-maintained special schools and nursery schools
    "Community special school": ("la_special", LA),
    "Foundation special school": ("la_special", OWN_BODY),
    "Local authority nursery school": ("early_years_setting", LA),
    # academies and free schools
    "Academy converter": ("academy", OWN_BODY),
    "Academy sponsor led": ("academy", OWN_BODY),
    "Academy special converter": ("academy", OWN_BODY),
    "Academy special sponsor led": ("academy", OWN_BODY),
    "Academy alternative provision converter": ("academy", OWN_BODY),
    "Academy alternative provision sponsor led": ("academy", OWN_BODY),
    "Academy 16-19 converter": ("academy", OWN_BODY),
    "Academy 16 to 19 sponsor led": ("academy", OWN_BODY),
    "Free schools": ("academy", OWN_BODY),
    "Free schools special": ("academy", OWN_BODY),
    "Free schools alternative provision": ("academy", OWN_BODY),
    "Free schools 16 to 19": ("academy", OWN_BODY),
    "Studio schools": ("academy", OWN_BODY),
    "University technical college": ("academy", OWN_BODY),
    "City technology college": ("academy", OWN_BODY),
    # independent schools
    "Other independent school": ("independent", OWN_BODY),
    "Other independent special school": ("independent", OWN_BODY),
    "Non-maintained special school": ("independent", OWN_BODY),
    # colleges
    "Further education": ("further_education", OWN_BODY),
    "Sixth form centres": ("further_education", OWN_BODY),
    "Special post 16 institution": ("further_education", OWN_BODY),
}

NOT_SCHOOLS = frozenset({
    "Children's centre",
    "Children's centre linked site",
    "Higher education institutions",
    "Welsh establishment",
    "Offshore schools",
    "British schools overseas",
    "Service children's education",
    "Institution funded by other government department",
    "Secure units",
    "Miscellaneous",
    "Online provider",
})

STATUSES = {
    "Open": "open",
    "Open, but proposed to close": "open",
    "Proposed to open": "proposed",
    "Closed": "closed",
}
"""``EstablishmentStatus (name)``: what the register keeps (``school.status``)."""

PHASES_NOT_APPLICABLE = frozenset({"", "not applicable"})


def phase_of(name: str) -> str | None:
    """``PhaseOfEducation (name)`` as the register writes phases: lower case (``primary``, ``16 plus``)."""
    phase = name.strip().lower()
    return None if phase in PHASES_NOT_APPLICABLE else phase[:30]
