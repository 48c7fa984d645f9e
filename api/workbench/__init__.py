"""The staff workbench: server-rendered pages over the case service's own functions (issue 7).

``router`` holds every page and action under /workbench; ``STATIC`` is the folder the service
mounts at /workbench/static (CSS, the page script, the vendored chart library)."""

from api.workbench import (  # noqa: F401 - registers the routes on the router
    actions,
    filing,
    labels_page,
    models_page,
    ops_page,
    outbox_page,
    pages,
)
from api.workbench.render import STATIC
from api.workbench.replies import load_replies
from api.workbench.routing import router

__all__ = ["STATIC", "load_replies", "router"]
