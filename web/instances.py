"""One process instance: its status, open tasks and audit history, as far as the reader needs to know
(docs/access.md, "Need to know"): an instance of which they read nothing is answered 404."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from .auth import login_required
from .context import clock, need_to_know, workflow
from .paging import page_links, page_number

bp = Blueprint("instances", __name__)


@bp.get("/instances/<id:instance_id>")
@login_required
def show(instance_id: int) -> str:
    service = workflow()
    instance = service.instance(instance_id)
    reading = need_to_know()
    if not reading.may_read_instance(instance):
        abort(404)
    open_tasks = reading.open_tasks(instance.business_key, instance_id=instance.id)
    only = reading.history(instance.id, instance.process_id, instance.business_key)
    history = service.history_page(instance_id, page_number(), per_page=50, only=only)
    return render_template(
        "instances/instance.html",
        instance=instance,
        partial=only is not None,
        open_tasks=open_tasks,
        history=history.items,
        page=history,
        pages=page_links(history),
        now=clock().now(),
    )
