"""The page of a list a request asks for (``?page=N``), checked; and the links to its neighbours."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from engine.errors import InvalidData
from engine.paging import MAX_PAGE, Page, check_page


def page_number() -> int:
    """``?page=`` as a whole number from 1; anything else is refused with 400, naming the field."""
    raw = request.args.get("page", "1").strip() or "1"
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidData({"page": [f"must be a whole number from 1 to {MAX_PAGE}"]},
                          "The page number is not valid")
    number = int(raw)
    check_page(number)
    return number


def page_links(page: Page[Any]) -> dict[str, str | None]:
    """URLs of the previous and next pages of this view, keeping its other query arguments."""
    endpoint = request.endpoint or ""
    args: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}

    def link(number: int) -> str:
        return url_for(endpoint, **{**args, "page": number})

    return {
        "previous": link(page.number - 1) if page.has_previous else None,
        "next": link(page.number + 1) if page.has_next else None,
    }
