"""Caseloads, for an administrator or a manager of the authority: the social workers with how many children
each has, a worker's children, the children with no social worker, allocating a child, and handing a
leaver's whole caseload (children and open tasks) to another worker. docs/staff.md, "Caseloads".

The child is named in the query string or the form (``?child=REF``), never in the path: these are the
authority's lists, not a child's record, and only the authority's own children are found.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from casework import caseloads
from casework.records import Child
from casework.users import User
from engine.errors import InvalidData

from .auth import login_required
from .context import clock, current_user, db
from .paging import page_links, page_number

bp = Blueprint("caseloads", __name__)

ALLOCATORS = frozenset({"admin", "manager"})


def _allocator() -> User:
    user = current_user()
    if user is None or not user.roles_set & ALLOCATORS or not user.la_code:
        abort(403, description="Only an administrator or a manager can allocate children to social workers.")
    return user


def _base_url() -> str:
    return request.host_url.rstrip("/")


@bp.get("/admin/caseloads")
@login_required
def index() -> str:
    user = _allocator()
    page = caseloads.workers(db(), user.la_code, page=page_number())
    return render_template("admin/caseloads.html", workers=page.items, page=page, pages=page_links(page))


@bp.get("/admin/caseloads/unallocated")
@login_required
def unallocated() -> str:
    user = _allocator()
    page = caseloads.unallocated(db(), user.la_code, page=page_number())
    return render_template("admin/caseload_unallocated.html", children=page.items, page=page, pages=page_links(page))


def _worker_page(username: str, errors: dict[str, str], status: int = 200, chosen: str = "") -> tuple[str, int]:
    user = _allocator()
    person = db().scalars(select(User).where(User.username == username)).one_or_none()
    page = caseloads.caseload(db(), user.la_code, username, page=page_number())
    if person is None and not page.items:
        abort(404, description=f"No one called {username} has children in this authority")
    return render_template("admin/caseload.html", person=person, username=username, children=page.items, page=page,
                           pages=page_links(page), workers=caseloads.picker(db(), user.la_code, excluding=username),
                           errors=errors, chosen=chosen), status


@bp.get("/admin/caseloads/<key:username>")
@login_required
def show(username: str) -> tuple[str, int]:
    return _worker_page(username, {})


@bp.post("/admin/caseloads/<key:username>/hand-over")
@login_required
def hand_over(username: str) -> tuple[str, int] | Response:
    user = _allocator()
    to = request.form.get("to", "")
    try:
        done = caseloads.hand_over(db(), clock(), user.la_code, username, to, user.username, _base_url())
    except InvalidData as invalid:
        errors = {name: str(reasons[0]) for name, reasons in invalid.errors.items()}
        return _worker_page(username, errors, 400, chosen=to)
    flash(f"{done.children} {'child' if done.children == 1 else 'children'} and {done.tasks_moved} open "
          f"{'task' if done.tasks_moved == 1 else 'tasks'} handed over to {to}"
          + (f"; {done.tasks_released} other tasks returned to their shared lists" if done.tasks_released else ""),
          "success")
    return redirect(url_for("caseloads.show", username=to))


@bp.route("/admin/caseloads/allocate", methods=["GET", "POST"])
@login_required
def allocate() -> tuple[str, int] | Response:
    user = _allocator()
    ref = (request.values.get("child") or "").strip()
    child = db().scalars(select(Child).where(Child.ref == ref, Child.la_code == user.la_code)).one_or_none()
    if child is None:
        abort(404, description="No child of this authority has that reference")
    errors: dict[str, str] = {}
    chosen = request.form.get("social_worker", "") if request.method == "POST" else (child.social_worker or "")
    if request.method == "POST":
        try:
            caseloads.allocate(db(), clock(), user.la_code, child.ref, chosen, user.username, _base_url())
        except InvalidData as invalid:
            errors = {name: str(reasons[0]) for name, reasons in invalid.errors.items()}
        else:
            flash(f"{child.full_name} is allocated to {chosen}", "success")
            return redirect(url_for("caseloads.show", username=chosen))
    return render_template("admin/caseload_allocate.html", child=child, errors=errors, chosen=chosen,
                           workers=caseloads.picker(db(), user.la_code)), 400 if errors else 200
