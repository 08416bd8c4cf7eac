"""Shared helpers for the contracts tests."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from pypdf import PdfReader

from tests.factories.accounts import bearer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from lap_market.accounts.models import User


def auth(app: FastAPI, user: User) -> dict[str, str]:
    """Bearer headers minted at the clock's current time (tests move the clock by days)."""
    return bearer(app, user)


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page of a PDF."""
    reader = PdfReader(io.BytesIO(content))
    return [page.extract_text() or "" for page in reader.pages]


def flat(text: str) -> str:
    """Whitespace folded, so wrapped lines still match."""
    return " ".join(text.split())
