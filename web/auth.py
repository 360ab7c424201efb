"""Who is asking: a bearer token (API) or a signed session cookie (pages, with a CSRF token for writes)."""
from __future__ import annotations

import hmac
import secrets

from flask import current_app, g, request, session

from web.bodies import HttpProblem
from web.store import Store, User, token_hash


def store() -> Store:
    return current_app.extensions["jubao.store"]


def current_user() -> User | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = store().user_by_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            raise HttpProblem(401, "the bearer token is not valid or was revoked; ask the operator for one "
                               "(jubao users add NAME --role …)")
        g.auth = "token"
        return user
    digest = session.get("token_hash")
    if digest:
        user = store().user_by_hash(digest)
        if user is not None:
            g.auth = "session"
            return user
        session.clear()
    return None


def require_user() -> User:
    user = current_user()
    if user is None:
        raise HttpProblem(401, "this needs a signed-in user: send Authorization: Bearer TOKEN")
    if g.get("auth") == "session":
        _require_csrf()
    return user


def _require_csrf() -> None:
    """Writes from a browser session must echo the session's CSRF token (header X-CSRF-Token or form field csrf)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf") or ""
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise HttpProblem(403, "the CSRF token is missing or wrong; reload the page and try again")


def sign_in(name: str, token: str) -> User | None:
    user = store().user_by_token(token)
    if user is None or user.name != name:
        return None
    session.clear()
    session["token_hash"] = token_hash(token)
    session["csrf"] = secrets.token_urlsafe(24)
    return user


def csrf_token() -> str:
    return session.get("csrf", "")
