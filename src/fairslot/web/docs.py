"""``/docs`` (Swagger UI) and ``/redoc`` from assets inside the package: the API's
documentation works without the internet. The pages' start-up code is a static script
(no inline script, so the Content-Security-Policy stays strict)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fairslot API · Swagger UI</title>
<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/js/swagger-init.js"></script>
</body></html>"""

REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fairslot API · ReDoc</title>
<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
</head><body><div id="redoc"></div>
<script src="/static/vendor/redoc/redoc.standalone.js"></script>
<script src="/static/js/redoc-init.js"></script>
</body></html>"""


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    return HTMLResponse(SWAGGER)


@router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    return HTMLResponse(REDOC)
