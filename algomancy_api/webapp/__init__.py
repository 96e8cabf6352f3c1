"""The browser side: the web app at `/`, and `/docs` and `/redoc` with their assets.

Everything a page loads is served from inside the package (`static/` holds our
files, `vendor/` pinned copies of third-party ones, see `vendor/VERSIONS.md`), so
the pages work on a machine without internet. No page has an inline script, so the
`Content-Security-Policy` every page gets (`script-src 'self'`, see `headers.py`)
does not break them.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
VENDOR_DIR = HERE / "vendor"

#: Path prefixes of the files above, and of the result views' ES modules
#: (`/app/modules/`); they hold no data and need no credentials.
ASSET_PREFIXES = ("/static/", "/vendor/", "/app/modules/")

SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Swagger UI</title>
<link rel="icon" href="{root}/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{root}/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{root}/openapi.json"
     data-oauth2-redirect-url="{root}/docs/oauth2-redirect"></div>
<script src="{root}/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{root}/static/swagger-init.js"></script>
</body>
</html>
"""

REDOC_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - ReDoc</title>
<link rel="icon" href="{root}/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{root}/static/redoc.css">
</head>
<body>
<noscript>ReDoc needs JavaScript; the same operations are in {root}/openapi.json.</noscript>
<redoc spec-url="{root}/openapi.json" hide-loading></redoc>
<script src="{root}/vendor/redoc/redoc.standalone.js"></script>
</body>
</html>
"""


def _root(request: Request) -> str:
    """The app's mount point behind a proxy (`root_path`), HTML-escaped."""
    return html.escape(request.scope.get("root_path", "").rstrip("/"), quote=True)


def install_assets(app: FastAPI) -> None:
    """`/static` (our files) and `/vendor` (third-party files)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/vendor", StaticFiles(directory=VENDOR_DIR), name="vendor")


def install_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI) and `/redoc`, served with the vendored assets.

    The app must be built with `docs_url=None, redoc_url=None`.
    """
    title = html.escape(app.title)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return HTMLResponse(SWAGGER_PAGE.format(title=title, root=_root(request)))

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> Response:
        # Swagger UI's OAuth2 helper page; the bundle ships its logic.
        return HTMLResponse(OAUTH2_REDIRECT_PAGE)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        # Its policy (`headers.REDOC_POLICY`) loads images only from this server and
        # data: URLs, so the "powered by" logo from Redocly's CDN is never asked for.
        return HTMLResponse(REDOC_PAGE.format(title=title, root=_root(request)))


OAUTH2_REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Swagger UI: OAuth2 redirect</title></head>
<body><script src="../vendor/swagger-ui/oauth2-redirect.js"></script></body></html>
"""


def install_webapp(app: FastAPI, prefix: str) -> None:
    """The web app's page at `/`; its scripts and styles come from `/static`."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    def web_app(request: Request) -> HTMLResponse:
        body = page.replace("{root}", _root(request)).replace("{prefix}", html.escape(prefix))
        return HTMLResponse(body, headers={"Cache-Control": "no-cache"})
