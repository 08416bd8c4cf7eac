"""Open data routes: OCDS release packages, readable without signing in."""

from typing import Annotated

from fastapi import Query, Request, Response

from lap_market.accounts.deps import SettingsDep, api_router
from lap_market.db import SessionDep
from lap_market.ocds import service
from lap_market.ocds.schemas import ReleasePackage
from lap_market.primitives import BusinessDateTime, Id

router = api_router("open data")

_PACKAGE_DOC = (
    " Amounts are numbers in GBP, ex VAT. Nothing sealed is published: bidders appear as "
    "tenderers only after the submission deadline, and bid prices and responses never."
)


@router.get(
    "/ocds/release-packages/{tender_id}",
    response_model=ReleasePackage,
    response_model_exclude_none=True,
    responses={404: {"description": "No published tender has this id (drafts never appear)."}},
    summary="OCDS release package of one tender",
    description=(
        "Every OCDS 1.1 release of a published tender so far, one per stage: tender, "
        "amendments, close of bidding, awards and their standstill, cancellation." + _PACKAGE_DOC
    ),
)
def tender_release_package(
    tender_id: Id, session: SessionDep, settings: SettingsDep
) -> ReleasePackage:
    uri = service.package_uri(settings, tender_id=tender_id)
    return service.release_package_for_tender(
        session, tender_id=tender_id, uri=uri, settings=settings
    )


@router.get(
    "/ocds/release-packages",
    response_model=ReleasePackage,
    response_model_exclude_none=True,
    responses={204: {"description": "No release is dated at or after `since`."}},
    summary="OCDS release package of all published tenders",
    description=(
        "The releases of every published tender, oldest first; with `since`, only those "
        "dated at or after it. An OCDS package holds at least one release, so when none "
        "matches the answer is 204 No Content." + _PACKAGE_DOC
    ),
)
def release_packages(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    since: Annotated[
        BusinessDateTime | None,
        Query(description="ISO 8601 date-time; without a zone it is read as UTC."),
    ] = None,
) -> ReleasePackage | Response:
    uri = service.package_uri(settings, since=request.query_params.get("since"))
    package = service.release_package_since(session, since=since, uri=uri, settings=settings)
    if package is None:
        return Response(status_code=204)
    return package
