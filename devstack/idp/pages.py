"""The dev IdP's pages (HTML-escaped; no script)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from .models import User

STYLE = (
    "body{font-family:sans-serif;max-width:34rem;margin:3rem auto}"
    "label{display:block;margin:.6rem 0}input[type=text],input[type=email]{width:100%}"
    "button{margin:.2rem}"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def sign_in(action: str, csrf: str, presets: Iterable[User], client_id: str) -> str:
    """Choose a sample user, or type one (email, display name, groups separated by commas)."""
    hidden = f"<input type='hidden' name='csrf' value='{escape(csrf)}'>"
    choices = "".join(
        f"<form method='post' action='{escape(action)}'>{hidden}"
        f"<input type='hidden' name='email' value='{escape(user.email)}'>"
        f"<input type='hidden' name='name' value='{escape(user.name)}'>"
        f"<input type='hidden' name='groups' value='{escape(','.join(user.groups))}'>"
        f"<button type='submit' name='preset'>{escape(user.email)}"
        f"{' (' + escape(', '.join(user.groups)) + ')' if user.groups else ''}</button></form>"
        for user in presets
    )
    typed = (
        f"<form method='post' action='{escape(action)}' id='typed'>{hidden}"
        "<label>Email <input type='email' name='email' id='email' required></label>"
        "<label>Name <input type='text' name='name' id='name'></label>"
        "<label>Groups (comma-separated) <input type='text' name='groups' id='groups'></label>"
        "<button type='submit' id='sign-in'>Sign in</button></form>"
    )
    return _page(
        "Dev identity provider",
        f"<p>Sign in to <b>{escape(client_id)}</b>.</p><h2>Sample users</h2>{choices}"
        f"<h2>Someone else</h2>{typed}",
    )


def signed_out() -> str:
    return _page("Signed out", "<p id='signed-out'>You are signed out of the dev IdP.</p>")


def error(message: str) -> str:
    return _page("Sign-in error", f"<p id='error'>{escape(message)}</p>")
