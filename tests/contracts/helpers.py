"""Shared helpers for the contracts tests."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from pypdf import PdfReader

from lap_market.accounts.security import create_access_token
from lap_market.clock import clock

if TYPE_CHECKING:
    from fastapi import FastAPI

    from lap_market.accounts.models import User


def auth(app: FastAPI, user: User) -> dict[str, str]:
    """Bearer headers minted at the clock's current time (tests move the clock by days)."""
    token = create_access_token(
        user_id=user.id,  # type: ignore[arg-type]
        secret=app.state.settings.secret_key, now=clock.now(), minutes=60,
    )
    return {"Authorization": f"Bearer {token}"}


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page of a PDF."""
    reader = PdfReader(io.BytesIO(content))
    return [page.extract_text() or "" for page in reader.pages]


def flat(text: str) -> str:
    """Whitespace folded, so wrapped lines still match."""
    return " ".join(text.split())
