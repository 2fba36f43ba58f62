"""The page at `GET /`: type, and the next words appear. Plain files from service/static/.

    index.html  the page (no template: nothing in it depends on the request)
    app.js      talks to /v1/predict and /v1/models with fetch; keeps the incremental state token
    style.css   system fonts, no external resources

No build step, no CDN: the Content-Security-Policy below lets the page load only what this
service serves, so a stray external script or font would fail loudly in the browser tests
(tests/test_web.py). Unknown paths still reach service/errors.py and answer JSON 404s. The page is
not an API route, so it stays out of the OpenAPI document.
"""
from __future__ import annotations

from flask import Blueprint

# Flask(__name__) in create_app() gives the app its own /static rule for this same folder (registered
# first, so it is the one that answers); the blueprint declares the folder too, so the page and its
# files stay one unit wherever the blueprint is registered.
bp = Blueprint("web", __name__, static_folder="static", static_url_path="/static")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
])


@bp.get("/")
def index():
    return bp.send_static_file("index.html")


@bp.after_app_request
def _page_headers(response):
    # Only the page and its files: the API's JSON answers keep their own headers.
    if response.mimetype in ("text/html", "text/css", "text/javascript", "application/javascript"):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
