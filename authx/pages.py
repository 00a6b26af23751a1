"""The small HTML pages authX answers with. Every text is HTML-escaped; no page shows a token."""

from __future__ import annotations

from html import escape

from authx.errors import Refusal

_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;\
color:#1b1b1b}}h1{{font-size:1.4rem}}p.code{{color:#666;font-size:.85rem}}{style}</style></head>
<body><h1>{title}</h1><p>{message}</p>{extra}</body>
</html>
"""


def page(title: str, message: str, extra: str = "", style: str = "") -> str:
    """A page with a title and a message; `extra` (HTML) and `style` (CSS) must already be safe."""
    return _TEMPLATE.format(title=escape(title), message=escape(message), extra=extra, style=style)


def refusal(error: Refusal) -> str:
    """The page for a refusal: what happened, what to do, and a code to quote to support."""
    extra = ""
    if error.retry:
        extra += "<p>This is usually temporary: please try again in a moment.</p>"
    extra += f'<p class="code">HTTP {error.status} · {escape(error.reason)}</p>'
    return page(error.title, error.message, extra)


def closed() -> str:
    return page("Signed out", "Your session is closed. You can close this tab.")
