"""GIAS establishment downloads written by the tests, in the published format (made-up establishments).

The published file has about 300 columns; :func:`gias_csv` writes the ones the import reads, in their
published places among many it ignores (real GIAS names, then ``SEN``-style fillers up to 300 columns), so
a national-sized file (:func:`national`) is as wide and as large as the real one (~60 MB for 50,000 rows).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from casework.gias_types import ESTABLISHMENT_TYPES, NOT_SCHOOLS

HEADER = [
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName", "TypeOfEstablishment (code)",
    "TypeOfEstablishment (name)", "EstablishmentTypeGroup (code)", "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (code)", "EstablishmentStatus (name)", "ReasonEstablishmentOpened (name)", "OpenDate",
    "ReasonEstablishmentClosed (name)", "CloseDate", "PhaseOfEducation (code)", "PhaseOfEducation (name)",
    "StatutoryLowAge", "StatutoryHighAge", "Boarders (name)", "NurseryProvision (name)", "OfficialSixthForm (name)",
    "Gender (name)", "ReligiousCharacter (name)", "Diocese (name)", "AdmissionsPolicy (name)", "SchoolCapacity",
    "CensusDate", "NumberOfPupils", "NumberOfBoys", "NumberOfGirls", "PercentageFSM", "TrustSchoolFlag (name)",
    "Trusts (name)", "FederationFlag (name)", "UKPRN", "OfstedLastInsp", "LastChangedDate", "Street", "Locality",
    "Address3", "Town", "County (name)", "Postcode", "SchoolWebsite", "TelephoneNum", "HeadTitle (name)",
    "HeadFirstName", "HeadLastName", "HeadPreferredJobTitle", "GOR (name)", "DistrictAdministrative (name)",
    "ParliamentaryConstituency (name)", "UrbanRural (name)", "Easting", "Northing", "MSOA (name)", "LSOA (name)",
]
HEADER += [f"SEN{n} (name)" for n in range(1, 300 - len(HEADER) + 1)]
FIELDS = {"urn": "URN", "la_code": "LA (code)", "la_name": "LA (name)", "name": "EstablishmentName",
          "type_name": "TypeOfEstablishment (name)", "group": "EstablishmentTypeGroup (name)",
          "status": "EstablishmentStatus (name)", "phase": "PhaseOfEducation (name)", "low": "StatutoryLowAge",
          "high": "StatutoryHighAge", "postcode": "Postcode"}
FILLER = {"Boarders (name)": "No boarders", "Gender (name)": "Mixed", "GOR (name)": "North West",
          "UrbanRural (name)": "(England/Wales) Urban city and town", "Street": "1 School Lane",
          "Town": "Sampleton", "OfficialSixthForm (name)": "Does not have a sixth form",
          "AdmissionsPolicy (name)": "Not applicable", "LastChangedDate": "01-09-2026"}


def establishment(urn: str, name: str, type_name: str = "Community school", **values: Any) -> dict[str, str]:
    """One establishment's values by the import's keys; open, primary, LA 935 unless told otherwise."""
    row = {"urn": urn, "la_code": "935", "la_name": "Sampleshire", "name": name, "type_name": type_name,
           "group": "Local authority maintained schools", "status": "Open", "phase": "Primary", "low": "4",
           "high": "11", "postcode": "SA1 1AA"}
    row.update({key: str(value) for key, value in values.items()})
    return row


def gias_csv(establishments: Iterable[dict[str, str]], header: list[str] | None = None) -> str:
    """The establishments as a GIAS download (text: encode it as the test needs)."""
    columns = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    by_title = {title: key for key, title in FIELDS.items()}
    for values in establishments:
        writer.writerow([values.get(by_title[title], "") if title in by_title else FILLER.get(title, "n/a" if title.startswith("SEN") else "")
                         for title in columns])
    return out.getvalue()


def national(count: int) -> Iterator[dict[str, str]]:
    """``count`` made-up establishments of every type (1 in 8 closed), over 150 authorities."""
    kinds = [*ESTABLISHMENT_TYPES, *sorted(NOT_SCHOOLS)]
    for n in range(count):
        kind = kinds[n % len(kinds)]
        yield establishment(f"{100000 + n}", f"Establishment {n} \u2019s School", kind, la_code=f"{201 + n % 150}",
                            la_name=f"Authority {n % 150}", status="Closed" if n % 8 == 7 else "Open",
                            phase="Secondary" if n % 2 else "Primary", low=11 if n % 2 else 4,
                            high=16 if n % 2 else 11, postcode=f"AB{n % 99} {n % 9}CD")
