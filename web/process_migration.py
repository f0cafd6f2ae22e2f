"""Moving a process's running cases to its newest version (administrators): the dry run, then the move.

``GET /admin/processes/<process_id>/migrate`` shows, a page at a time, each running case on an older
version, whether it can move and why (each case is loaded to judge it: ``PER_PAGE`` at a time).
``POST`` moves the movable cases of the page shown, each checked again as it moves, and says how many
moved, could not, or lost a race with a step done at the same time. Each move is audited on its case
(``instance_migrated``). See docs/modelling.md, "Moving running cases to a new version".
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine import migration
from engine.errors import InvalidData
from engine.paging import MAX_PAGE

from .auth import login_required
from .context import clock, db, require_admin, state
from .paging import page_links, page_number

bp = Blueprint("process_migration", __name__)

PER_PAGE = 50
"""Cases judged per page: each is loaded (deserialized) to judge it."""


def _require_admin() -> str:
    return require_admin("Only an administrator can move running cases to a new version of a process.")


@bp.get("/admin/processes/<key:process_id>/migrate")
@login_required
def show(process_id: str) -> str:
    _require_admin()
    target = migration.newest(db(), process_id)  # an unknown process is 404
    page = migration.plan_page(db(), state().runtime, process_id, page=page_number(), per_page=PER_PAGE,
                               clock=clock())
    movable = sum(v.can_move for v in page.items)
    return render_template("admin/process_migration.html", target=target, page=page, pages=page_links(page),
                           movable=movable, cannot=len(page.items) - movable)


@bp.post("/admin/processes/<key:process_id>/migrate")
@login_required
def move(process_id: str) -> Response:
    admin = _require_admin()
    number = _posted_page()
    listed = migration.plan_ids(db(), process_id, page=number, per_page=PER_PAGE)
    result = migration.migrate(db(), state().runtime, clock(), process_id, admin, listed)
    counts = result.counts()
    target = migration.newest(db(), process_id)
    message = (f"Moved to version {target.version}: {counts['moved']}. Cannot move: {counts['cannot_move']}. "
               f"Changed by someone else at the same time, so not moved: {counts['conflicts']}.")
    flash(message, "success")
    return redirect(url_for("process_migration.show", process_id=process_id, page=number))


def _posted_page() -> int:
    raw = (request.form.get("page") or "1").strip()
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidData({"page": [f"must be a whole number from 1 to {MAX_PAGE}"]}, "The page number is not valid")
    return int(raw)
