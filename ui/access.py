"""Who may control the system: OIDC login (st.login) with operator emails, a shared password,
or — with neither configured — an unprotected local dashboard that says so."""

import hashlib
import hmac
import time
from dataclasses import dataclass

import streamlit as st

LOCKOUT_AFTER = 5
LOCKOUT_S = 300
_failures: dict[str, list[float]] = {}  # per server process: client key -> failure times


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
    recent = [t for t in _failures.get(client, []) if time.time() - t < LOCKOUT_S]
    _failures[client] = recent
    return LOCKOUT_S - (time.time() - recent[0]) if len(recent) >= LOCKOUT_AFTER else 0.0


def _password() -> Access | None:
    section = _secrets_section("paperdesk")
    expected, salt = section.get("password_hash"), section.get("password_salt", "")
    if not expected:
        return None
    if st.session_state.get("password_ok"):
        return Access("password", "operator", True, "shared password")
    ip = st.context.ip_address
    client = ip if isinstance(ip, str) and ip else "local"  # None when served on localhost
    st.title("PaperDesk")
    if not _locked(client):
        with st.form("login"):
            given = st.text_input("Password", type="password")
            if st.form_submit_button("Unlock", type="primary"):
                if hmac.compare_digest(hash_password(given, salt), str(expected)):
                    _failures.pop(client, None)
                    st.session_state["password_ok"] = True
                    st.rerun()
                _failures.setdefault(client, []).append(time.time())
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
