"""Pages of a list, cut in the database: never more than a page of rows is loaded.

A page is fetched with ``OFFSET (number - 1) * size LIMIT size + 1``: the one extra row only
says whether there is a next page, so no list ever counts all its rows. The web layer turns a
:class:`Page` into GOV.UK's pagination component (previous and next links).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from .errors import InvalidData

T = TypeVar("T")

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_PAGE = 2000
"""Deeper than this a list must be filtered instead: an offset costs what it skips."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def check_page(number: int, size: int = PAGE_SIZE) -> None:
    """Refuses a page number or size out of range, naming the field."""
    if not 1 <= number <= MAX_PAGE:
        raise InvalidData({"page": [f"must be a whole number from 1 to {MAX_PAGE}"]})
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidData({"per_page": [f"must be a whole number from 1 to {MAX_PAGE_SIZE}"]})


def cut(rows: Sequence[T], number: int, size: int) -> Page[T]:
    """A page from at most ``size + 1`` rows fetched at the page's offset."""
    return Page(list(rows[:size]), number, size, has_next=len(rows) > size)


def fetch_page(session: Session, query: Select[T], number: int = 1, size: int = PAGE_SIZE) -> Page[T]:
    """One page of an ORM query that is already filtered and fully ordered (ties broken by a key)."""
    check_page(number, size)
    rows = session.scalars(query.offset((number - 1) * size).limit(size + 1)).all()
    return cut(rows, number, size)
