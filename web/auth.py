"""Who is asking: a bearer token (API) or a signed session cookie (pages, with a CSRF token for writes)."""
from __future__ import annotations

import hmac
import secrets

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface

from engine.language import say
from web.bodies import HttpProblem
from web.store import Store, User


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the signing serializer built for a request that sends no cookie
    (every API call from another system): 2 % of a worker's CPU under load, for an empty session either way."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def store() -> Store:
    return current_app.extensions["jubao.store"]


def current_user() -> User | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = store().user_by_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            raise HttpProblem(401, say("http.bad-token"))
        g.auth = "token"
        return user
    session_id = session.get("session")
    if session_id:
        # looked up on every request: a cookie copied before sign-out (or before the user was revoked)
        # names a session that has ended
        user = store().session_user(session_id)
        if user is not None:
            g.auth = "session"
            return user
        session.clear()
    return None


def require_user() -> User:
    user = current_user()
    if user is None:
        raise HttpProblem(401, say("http.sign-in"))
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
        raise HttpProblem(403, say("http.csrf"))


def sign_in(name: str, token: str) -> User | None:
    user = store().user_by_token(token)
    if user is None or user.name != name:
        return None
    session.clear()
    session["session"] = store().start_session(token)
    session["csrf"] = secrets.token_urlsafe(24)
    return user


def sign_out() -> None:
    """End the session on the server too, so a saved copy of the cookie no longer signs anyone in."""
    if session.get("session"):
        store().end_session(session["session"])
    session.clear()


def csrf_token() -> str:
    return session.get("csrf", "")
