"""Throttling password guesses per (account, client address) and per client address.

Throttling per account alone would let anyone lock the owner out; per (account, address)
an attacker only locks themselves out, and the per-address limit caps one address guessing
across many accounts. The client address is the socket peer, or the address a trusted proxy
forwarded (``LAP_TRUSTED_PROXIES``).
"""

import ipaddress
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import LoginFailure
from lap_market.clock import clock
from lap_market.config import IPNetwork, Settings
from lap_market.errors import TooManyRequests

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_ADDRESS_LENGTH = 64


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[IPNetwork, ...]
) -> str:
    """The address a request came from, as far as it can be trusted.

    X-Forwarded-For is read right to left only while each hop is a trusted proxy: the first
    untrusted hop is the client. Anything left of it was written by the client itself.
    """
    address = (peer or "unknown")[:MAX_ADDRESS_LENGTH]
    current = _parse(address)
    if not trusted or not forwarded_for or current is None or not _trusted(current, trusted):
        return address
    for hop in reversed(forwarded_for.split(",")):
        parsed = _parse(hop.strip())
        if parsed is None:
            return address  # a malformed hop ends the chain at the last address we trust
        address = str(parsed)
        if not _trusted(parsed, trusted):
            return address
    return address


def _parse(value: str) -> IPAddress | None:
    if value.count(":") == 1:  # "203.0.113.7:51234": some proxies add the port
        value = value.split(":", 1)[0]
    value = value.removeprefix("[").split("]", 1)[0]  # "[2001:db8::1]:443"
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address: IPAddress, trusted: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def begin_attempt(session: Session, settings: Settings, *, email: str, address: str) -> None:
    """Count a password attempt before the password is checked, or refuse it with 429.

    The attempt is written first, in its own committed transaction, so parallel guesses all
    see each other and no more than the limit are ever checked; the row stays as a failure
    unless ``forget_attempts`` removes it after a success.
    """
    now = clock.now()
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    with Session(session.get_bind()) as side:
        attempt = LoginFailure(email=email, client_address=address, at=now)
        side.add(attempt)
        side.execute(  # keep the table small: this address's attempts outside the window
            sa.delete(LoginFailure).where(
                col(LoginFailure.client_address) == address, col(LoginFailure.at) < window_start
            )
        )
        side.commit()
        refusal = _refusal(side, settings, email=email, address=address, since=window_start)
        if refusal:
            # A refused attempt checks no password, so it does not count against anyone.
            side.delete(attempt)
            side.commit()
            raise TooManyRequests(refusal, retry_after=settings.login_window_minutes * 60)


def _refusal(
    side: Session, settings: Settings, *, email: str, address: str, since: datetime
) -> str | None:
    recent = select(func.count()).where(
        col(LoginFailure.client_address) == address, col(LoginFailure.at) >= since
    )
    per_account = side.exec(recent.where(col(LoginFailure.email) == email)).one()
    if per_account > settings.login_max_failures:
        return (
            "Too many failed sign-in attempts for this account from your address. "
            "Try again later."
        )
    if side.exec(recent).one() > settings.login_max_failures_per_address:
        return "Too many failed sign-in attempts from your address. Try again later."
    return None


def forget_attempts(session: Session, *, email: str, address: str) -> None:
    """After a success, forget this address's attempts on this account (not other addresses',
    so the owner signing in does not hand an attacker elsewhere a fresh allowance)."""
    session.execute(
        sa.delete(LoginFailure).where(
            col(LoginFailure.email) == email, col(LoginFailure.client_address) == address
        )
    )
