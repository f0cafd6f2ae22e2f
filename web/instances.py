"""One process instance: its status, open tasks and audit history."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from .auth import login_required
from .context import clock, may_see, workflow
from .paging import page_links, page_number

bp = Blueprint("instances", __name__)


@bp.get("/instances/<int:instance_id>")
@login_required
def show(instance_id: int) -> str:
    service = workflow()
    instance = service.instance(instance_id)
    if not may_see(instance.business_key):
        abort(404)
    tasks = service.instance_tasks(instance_id)
    open_tasks = [t for t in tasks if t.state == "open"]
    history = service.history_page(instance_id, page_number(), per_page=50)
    return render_template(
        "instances/instance.html",
        instance=instance,
        open_tasks=open_tasks,
        history=history.items,
        page=history,
        pages=page_links(history),
        now=clock().now(),
    )
