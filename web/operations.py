"""The operator's view (administrators): running cases per process version, what waits at each element
(on the diagram and as a table), the cases waiting at one element, and one case's operational facts with
"Cancel this case". No answers: an administrator reads no case content (docs/access.md, docs/operations.md).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from lxml import etree
from werkzeug.wrappers import Response

from engine.errors import Conflict, NotFound
from engine.incidents import open_count
from engine.operations import (
    ElementCount,
    definition,
    element_counts,
    instance_facts,
    running_by_version,
    waiting_at,
)
from notifications.delivery import dead_count

from .auth import login_required
from .context import actor, db, require_admin, workflow
from .history import element_names
from .paging import page_links, page_number

bp = Blueprint("operations", __name__)

REASON_LIMIT = 500
"""The longest reason for cancelling a case."""
KINDS = {"task": "Open task", "timer": "Timer", "message": "Waiting for a message"}


def _admin() -> str:
    return require_admin("Only an administrator can see the operator's view.")


@lru_cache(maxsize=64)
def element_ids(bpmn_xml: str) -> frozenset[str]:
    """Every id in a BPMN document (to tell an element of the version from an unknown one)."""
    try:
        root = etree.fromstring(bpmn_xml.encode("utf-8"),
                                parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return frozenset()
    return frozenset(str(e.get("id")) for e in root.iter() if isinstance(e.tag, str) and e.get("id"))


@bp.get("/admin/operations")
@login_required
def index() -> str:
    _admin()
    session = db()
    versions = running_by_version(session)
    return render_template("operations/index.html", versions=versions,
                           running=sum(v.running for v in versions), incidents=open_count(session),
                           dead=dead_count(session))


def _rows(bpmn_xml: str, counts: dict[str, ElementCount]) -> list[tuple[str, str, ElementCount]]:
    """(element id, name, counts) in the order the elements appear in the BPMN file."""
    names = element_names(bpmn_xml)
    order = {element: n for n, element in enumerate(names)}
    return sorted(((e, names.get(e, e), c) for e, c in counts.items()), key=lambda r: (order.get(r[0], 10**6), r[0]))


@bp.get("/admin/operations/<id:definition_id>")
@login_required
def version(definition_id: int) -> str:
    _admin()
    found = definition(db(), definition_id)  # NotFound -> 404
    counts = element_counts(db(), found.process_id, found.id)
    return render_template("operations/version.html", definition=found, rows=_rows(found.bpmn_xml, counts))


@bp.get("/admin/operations/<id:definition_id>/diagram.json")
@login_required
def diagram(definition_id: int) -> Response:
    """The version's BPMN and a count on each element where something waits, for ``static/js/diagram.js``."""
    _admin()
    found = definition(db(), definition_id)
    counts = element_counts(db(), found.process_id, found.id)
    body: dict[str, Any] = {
        "process_id": found.process_id,
        "xml": found.bpmn_xml,
        "counts": [{"id": e, "tasks": c.tasks, "timers": c.timers, "messages": c.messages,
                    "incidents": c.incidents,
                    "href": url_for("operations.element", definition_id=found.id, element_id=e)}
                   for e, c in counts.items()],
        "completed": [], "current": [], "timers": [],
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin/operations/<id:definition_id>/elements/<key:element_id>")
@login_required
def element(definition_id: int, element_id: str) -> str:
    _admin()
    found = definition(db(), definition_id)
    if element_id not in element_ids(found.bpmn_xml):
        raise NotFound(f"Version {found.version} of {found.process_id} has no element '{element_id}'")
    page = waiting_at(db(), found.id, element_id, page_number())
    name = element_names(found.bpmn_xml).get(element_id, element_id)
    return render_template("operations/element.html", definition=found, element_id=element_id, name=name,
                           page=page, pages=page_links(page), kinds=KINDS)


def _instance_page(instance_id: int, reason: str = "", errors: dict[str, list[str]] | None = None) -> str:
    facts = instance_facts(db(), instance_id)  # NotFound -> 404
    names = element_names(facts.definition.bpmn_xml)
    return render_template("operations/instance.html", facts=facts, names=names, reason=reason,
                           errors=errors or {}, limit=REASON_LIMIT)


@bp.get("/admin/operations/instances/<id:instance_id>")
@login_required
def instance(instance_id: int) -> str:
    _admin()
    return _instance_page(instance_id)


@bp.post("/admin/operations/instances/<id:instance_id>/cancel")
@login_required
def cancel(instance_id: int) -> tuple[str, int] | Response:
    """Cancel a running case with a reason: its process ends, the audit says who and why (409 if it ended)."""
    _admin()
    reason = request.form.get("reason", "").strip()
    problem = ("Enter why you are cancelling this case" if not reason
               else f"The reason must be {REASON_LIMIT} characters or fewer" if len(reason) > REASON_LIMIT
               else None)
    if problem is not None:
        return _instance_page(instance_id, reason[: REASON_LIMIT * 2], {"reason": [problem]}), 400
    facts = instance_facts(db(), instance_id)
    if facts.instance.status != "running":
        raise Conflict(f"Process {instance_id} is already {facts.instance.status}: there is nothing to cancel")
    workflow().cancel(instance_id, actor(), reason)
    flash(f"Process {instance_id} ({facts.instance.business_key}) is cancelled", "success")
    return redirect(url_for("operations.instance", instance_id=instance_id))
