"""Your account: the sessions you have open and "sign out everywhere"; and, for administrators, the users
with theirs (a leaver, a lost laptop). docs/security.md, "Signing in and sessions". Adding and changing
users: web/staff.py (docs/staff.md)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from casework.staff import search
from casework.users import ROLES

from .auth import login_required, session_store
from .context import clock, current_user, db, require_admin
from .paging import page_links, page_number

bp = Blueprint("account", __name__)


def _count(number: int) -> str:
    return f"{number} session{'' if number == 1 else 's'}"


@bp.get("/account")
@login_required
def index() -> str:
    user = current_user()
    assert user is not None
    page = session_store().open_sessions(user.id, page=page_number())
    here = g.get("user_session")
    return render_template("auth/account.html", sessions=page.items, page=page, pages=page_links(page),
                           current_id=here.id if here is not None else None)


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    user = current_user()
    assert user is not None
    ended = session_store().sign_out_everywhere(user.username, by=user.username, address=request.remote_addr)
    session.clear()
    flash(f"You have signed out everywhere: {_count(ended)} ended", "success")
    return redirect(url_for("auth.login"))


def _require_admin() -> str:
    return require_admin("Only an administrator can see the users and sign them out.")


@bp.get("/admin/users")
@login_required
def users() -> str:
    """Every user, searched and filtered in SQL (casework/staff.py ``search``), with their open sessions."""
    _require_admin()
    args = request.args
    filters = {"text": args.get("q", "")[:100], "role": args.get("role", "") if args.get("role") in ROLES else "",
               "status": args.get("status", "") if args.get("status") in ("active", "deactivated") else "",
               "la_code": args.get("la", "")[:10].strip()}
    page = search(db(), clock(), session_store().policy.idle, text=filters["text"], role=filters["role"],
                  status=filters["status"], la_code=filters["la_code"], page=page_number())
    return render_template("auth/users.html", people=page.items, page=page, pages=page_links(page),
                           filters=filters, role_choices=sorted(ROLES))


@bp.post("/admin/users/<key:username>/sign-out-everywhere")
@login_required
def sign_user_out(username: str) -> Response:
    admin = _require_admin()
    ended = session_store().sign_out_everywhere(username, by=admin, address=request.remote_addr)  # NotFound: 404
    flash(f"{username} is signed out everywhere: {_count(ended)} ended", "success")
    return redirect(url_for("account.users"))
