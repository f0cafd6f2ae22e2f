"""A PEP as a document: the page, its print stylesheet and its PDF (docs/processes.md, "The PEP document").

Who may read a PEP is who reads the child's education (docs/access.md, "Need to know"): anyone else, and
an unknown PEP, is answered 404, exactly like an instance. Within the document, the social worker's
contribution is shown to those who read care and the SEND referral to those who read SEND. Reading or
downloading a PEP is written to the audit trail, like opening a child's record.

The task page uses :func:`task_context` and the partials ``peps/_document.html`` and ``peps/_returned.html``:
the virtual school head rates the PEP she can read, and a returned PEP tells the teacher why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select

from casework.need_to_know import EDUCATION
from casework.pep_document import ALL_KINDS, RAG_LABELS, PepDocument, build
from casework.pep_versions import RETURNED, versions
from casework.processes.pep_review import PROCESS_ID, STAGE_TASKS, Step
from casework.records import Child, Pep, audit_change
from casework.users import User

from .auth import login_required
from .context import actor, clock, db, need_to_know

bp = Blueprint("peps", __name__)

STATIC = Path(__file__).parent / "static"
PDF_CSS = STATIC / "peps.css"
RAG_COLOURS = {"red": "red", "amber": "yellow", "green": "green"}
ACTION_STATES = {"proposed": ("Proposed", "grey"), "open": ("Open", "blue"), "done": ("Done", "green"),
                 "overdue": ("Overdue", "red")}
CHANGES = {"added": ("Added", "green"), "removed": ("Removed", "red"), "changed": ("Changed", "blue")}


def _document(pep_id: int) -> PepDocument:
    """The PEP's document for the signed-in reader; 404 if there is none or they do not read its education."""
    session = db()
    pep = session.get(Pep, pep_id)
    child = session.get(Child, pep.child_id) if pep is not None else None
    if pep is None or child is None:
        abort(404)
    reader = need_to_know().reader(child.ref)
    if not reader.reads(EDUCATION):
        abort(404)  # the same answer as for a PEP that does not exist
    return build(session, pep, clock().now().date(), reader.categories & ALL_KINDS)


def labels() -> dict[str, Any]:
    return {"rag_labels": RAG_LABELS, "rag_colours": RAG_COLOURS, "action_states": ACTION_STATES,
            "changes": CHANGES}


@bp.get("/peps/<id:pep_id>")
@login_required
def show(pep_id: int) -> str:
    document = _document(pep_id)
    audit_change(db(), clock().now(), actor().user_id, "pep.viewed", document.child.ref, {"pep_id": pep_id})
    return render_template("peps/pep.html", document=document, **labels())


@bp.get("/peps/<id:pep_id>.pdf")
@login_required
def pdf(pep_id: int) -> Response:
    document = _document(pep_id)
    audit_change(db(), clock().now(), actor().user_id, "pep.downloaded", document.child.ref, {"pep_id": pep_id})
    html = render_template("peps/pdf.html", document=document, printed=clock().now(), **labels())
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


def render_pdf(html: str) -> bytes:
    """The HTML as a PDF by WeasyPrint, with the stylesheet and fonts from local files only (no network)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    local_only = URLFetcher(allowed_protocols=("file",))
    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=local_only)
    pdf_bytes: bytes = document.write_pdf(stylesheets=[CSS(filename=str(PDF_CSS), url_fetcher=local_only)])
    return pdf_bytes


def task_context(task: Any) -> dict[str, Any]:
    """What the task page shows of the PEP: the document on the VSH's quality task; on a returned PEP's
    stage task, who returned it, when and why. Empty for every other task."""
    if task.process_id != PROCESS_ID or task.element_id not in {Step.QUALITY_ASSURE_PEP, *STAGE_TASKS}:
        return {}
    session = db()
    pep = session.scalars(select(Pep).where(Pep.instance_id == task.instance_id).order_by(Pep.id)).first()
    if pep is None:
        return {}
    if task.element_id == Step.QUALITY_ASSURE_PEP:
        reads = need_to_know().reader(task.business_key).categories & ALL_KINDS
        return {"pep_document": build(session, pep, clock().now().date(), reads), **labels()}
    if pep.status != "returned":
        return {}
    returned = [v for v in versions(session, pep.id) if v.kind == RETURNED]
    last = returned[-1] if returned else None
    by = (session.scalar(select(User.display_name).where(User.username == last.actor)) or last.actor
          if last is not None else "The virtual school head")
    return {"pep_returned": {"reason": pep.return_reason, "by": by, "at": last.at if last else None}}
