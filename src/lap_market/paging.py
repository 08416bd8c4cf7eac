"""One page of a list: the envelope every paged list returns, and the query helper behind it."""

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlmodel import Session, func, select

T = TypeVar("T")

MAX_PAGE = 100_000
MAX_PAGE_SIZE = 200

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")]


class Paged(BaseModel, Generic[T]):
    """``items`` of this page, the ``total`` across every page, and where the page is."""

    items: list[T]
    total: int
    page: int
    page_size: int


def paginate(session: Session, query: Any, *, page: int, page_size: int) -> tuple[list[Any], int]:
    """One page of an ordered ``select`` and the count of all its rows, both by the database."""
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    rows = session.exec(query.offset((page - 1) * page_size).limit(page_size)).all()
    return list(rows), int(total)


def page_count(total: int, page_size: int) -> int:
    """How many pages ``total`` items fill (at least one, so page 1 always exists)."""
    return max(1, -(-total // page_size))
