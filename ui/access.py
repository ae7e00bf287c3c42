"""Who may control the system: OIDC login (st.login) with operator emails, a shared password,
or — with neither configured — an unprotected local dashboard that says so."""

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st

from engine.control import actions as control
from engine.reads.status import login_failures
from ui import context

LOCKOUT_AFTER = 5
LOCKOUT_S = 300
# Behind a reverse proxy every browser comes from the proxy's address: name the header that
# carries the client's (e.g. X-Forwarded-For) so one client's wrong passwords lock only it out.
CLIENT_HEADER = "PAPERDESK_CLIENT_HEADER"


@dataclass(frozen=True)
class Access:
    mode: str  # "oidc", "password" or "open"
    user: str
    can_control: bool
    note: str


def hash_password(password: str, salt: str) -> str:
    """PBKDF2-SHA256 (600,000 rounds) as hex; store `salt` and this in secrets."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 600_000).hex()


def _secrets_section(name: str) -> dict:
    try:
        return dict(st.secrets.get(name, {}))
    except FileNotFoundError:
        return {}


def _operators() -> set[str]:
    section = _secrets_section("paperdesk")
    return {e.strip().lower() for e in section.get("operators", []) if e.strip()}


def _oidc() -> Access | None:
    if not _secrets_section("auth"):
        return None
    if not st.user.is_logged_in:
        st.title("PaperDesk")
        st.write("Sign in to see the trading system.")
        st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
        st.stop()
    email = str(st.user.get("email", "")).lower()
    operator = email in _operators()
    note = "operator" if operator else "read-only: not in the operators list"
    return Access("oidc", email, operator, note)


def _locked(client: str) -> float:
    """Seconds left of `client`'s lockout (failures are stored: restarts do not reset them)."""
    recent = login_failures(context.db(), client, LOCKOUT_S)
    if len(recent) < LOCKOUT_AFTER:
        return 0.0
    return max(0.0, LOCKOUT_S - (datetime.now(UTC) - recent[-LOCKOUT_AFTER]).total_seconds())


def _client() -> str:
    header = os.environ.get(CLIENT_HEADER, "").strip()
    if header:
        forwarded = str(st.context.headers.get(header) or "").split(",")[0].strip()
        if forwarded:
            return forwarded
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else "local"  # None when served on localhost


def _password() -> Access | None:
    section = _secrets_section("paperdesk")
    expected, salt = section.get("password_hash"), section.get("password_salt", "")
    if not expected:
        return None
    if st.session_state.get("password_ok"):
        return Access("password", "operator", True, "shared password")
    client = _client()
    st.title("PaperDesk")
    if not _locked(client):
        with st.form("login"):
            given = st.text_input("Password", type="password")
            if st.form_submit_button("Unlock", type="primary"):
                if hmac.compare_digest(hash_password(given, salt), str(expected)):
                    control.clear_login_failures(context.db(), client)
                    st.session_state["password_ok"] = True
                    st.rerun()
                control.record_login_failure(context.db(), client)
                st.error("Wrong password.")
    wait = _locked(client)
    if wait:
        st.error(f"Too many wrong passwords: try again in {wait:.0f} s.")
    st.stop()


def resolve() -> Access:
    """Decide the access of this browser session, showing a login screen when needed."""
    access = _oidc() or _password() or Access(
        "open", "local user", True,
        "unprotected: keep it on localhost, or set [auth] or a password in secrets")
    st.session_state["operator"] = access.user
    st.session_state["can_control"] = access.can_control
    return access
