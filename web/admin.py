"""``/admin``: the administrator's starting point — bringing an authority up, and keeping it running.

It links, in the order a council's first day takes them (docs/onboarding.md), to the pages that load the
authority's own data — the schools register (GIAS), its term dates and rules, its staff, its children
(SSDA903) and their allocation to social workers — and to the pages that keep it running: process versions,
incidents, dead-letter emails and signed-in users. Only the admin role; everyone else 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, render_template

from .auth import login_required
from .context import current_user, require_admin

bp = Blueprint("admin", __name__)

# the pages "Administration" is marked current on (incidents, dead letters and users have their own links)
ADMIN_BLUEPRINTS = ("admin", "admin_schools", "admin_children_import", "caseloads", "authority_settings",
                    "operations", "process_migration")
SECTIONS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("Bring the authority up", [
        ("admin_schools.upload", "1. Schools register",
         "Load the schools from the DfE's Get Information about Schools download, and keep it up to date."),
        ("authority_settings.index", "2. Term dates and rules",
         "The authority's school term dates, the rules its deadlines follow, and its process versions."),
        ("staff.import_staff", "3. Staff",
         "Add staff from a CSV file (each gets an invitation), or one at a time from Users."),
        ("admin_children_import.upload", "4. Children",
         "Load the children looked after from the SSDA903 return's header and episodes files."),
        ("caseloads.index", "5. Caseloads",
         "Allocate children to social workers, and hand a leaver's caseload and open tasks to someone else."),
    ]),
    ("Keep it running", [
        ("account.users", "Users", "Everyone who signs in: roles, invitations, deactivating, signing out."),
        ("authority_settings.processes", "Process versions",
         "Every deployed version, the cases running on each, and deploying a new BPMN file."),
        ("incidents.index", "Incidents", "Timers and steps that failed, with retry and cancel."),
        ("notices.dead_letter_list", "Dead letters", "Emails that could not be sent."),
        # -- issue 15: operator view entries --
        ("operations.index", "Operations", "Running cases per process version, where they wait, and cancelling a case."),
    ]),
]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(_nav)


def _nav() -> dict[str, Any]:
    """The endpoints under "Administration" (administrators) and "Caseloads" (managers) in the navigation:
    each is marked current on any of its pages."""
    user = current_user()
    roles = user.roles_set if user is not None else frozenset()

    def under(*blueprints: str) -> tuple[str, ...]:
        return tuple(rule.endpoint for rule in current_app.url_map.iter_rules()
                     if rule.endpoint.partition(".")[0] in blueprints)

    return {"admin_endpoints": under(*ADMIN_BLUEPRINTS) if "admin" in roles else (),
            "caseload_endpoints": under("caseloads") if "manager" in roles and "admin" not in roles else ()}


@bp.get("/admin")
@login_required
def index() -> str:
    require_admin("Only an administrator can see the administration pages.")
    present = {rule.endpoint for rule in current_app.url_map.iter_rules()}
    sections = [(title, [link for link in links if link[0] in present]) for title, links in SECTIONS]
    return render_template("admin/index.html", sections=sections)
