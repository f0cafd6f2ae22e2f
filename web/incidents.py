"""Incidents (administrators): instances whose timer step failed, held back from the pump until retried, and
people's steps that failed (nothing saved), acknowledged so the person can try again (engine/incidents.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from engine.incidents import RETRIED, STEP, open_incidents, retry

from .auth import login_required
from .context import clock, db, require_admin
from .paging import page_links, page_number

bp = Blueprint("incidents", __name__)


def _require_admin() -> str:
    return require_admin("Only an administrator can see and retry incidents.")


@bp.get("/admin/incidents")
@login_required
def index() -> str:
    _require_admin()
    page = open_incidents(db(), page=page_number())
    return render_template("incidents/index.html", incidents=page.items, page=page, pages=page_links(page))


@bp.post("/admin/incidents/<id:incident_id>/retry")
@login_required
def run_again(incident_id: int) -> Response:
    admin = _require_admin()
    incident = retry(db(), incident_id, admin, clock().now())  # NotFound -> 404, not open -> 409
    if incident.kind == STEP:
        flash(f"Noted: {incident.actor or 'the person'} can try the step again in process {incident.instance_id} "
              f"({incident.business_key}); the incident is closed", "success")
    elif incident.status == RETRIED:
        flash(f"Process {incident.instance_id} ({incident.business_key}) will run again at the scheduler's "
              "next pass", "success")
    else:
        flash(f"Process {incident.instance_id} ({incident.business_key}) is no longer running, so there is "
              "nothing to run again: the incident is closed", "success")
    return redirect(url_for("incidents.index"))
