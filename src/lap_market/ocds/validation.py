"""Validating release packages offline against the OCDS 1.1.5 schema and codelists.

The schema files ship inside the package (``ocds/schema/1.1.5``, with their licence), so a
fresh clone or an installed wheel validates without the network: the release schema that
the package schema refers to by URL is served from the local file.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_DIR = Path(__file__).resolve().parent / "schema" / "1.1.5"


def _formats() -> FormatChecker:
    """date-time and uri checked here (jsonschema's own need packages we do not install)."""
    checker = FormatChecker(formats=())

    def date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if "T" not in value:
            raise ValueError(f"{value!r} has no time")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return True

    def uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlparse(value)
        return bool(parts.scheme in ("http", "https") and parts.netloc)

    # Registered by call, not as decorators: jsonschema leaves ``checks`` untyped.
    checker.checks("date-time", raises=ValueError)(date_time)
    checker.checks("uri")(uri)

    return checker


@cache
def package_validator() -> Draft4Validator:
    """A Draft 4 validator for release packages, resolving the release schema locally."""
    package = json.loads((SCHEMA_DIR / "release-package-schema.json").read_text())
    release = json.loads((SCHEMA_DIR / "release-schema.json").read_text())
    if package["$schema"] != "http://json-schema.org/draft-04/schema#":
        raise RuntimeError("the OCDS 1.1.5 package schema is Draft 4; the copy is not")
    registry: Registry[Any] = Registry().with_resources([
        (release["id"], Resource.from_contents(release, default_specification=DRAFT4)),
        (package["id"], Resource.from_contents(package, default_specification=DRAFT4)),
    ])
    return Draft4Validator(package, registry=registry, format_checker=_formats())


@cache
def codelist(name: str) -> frozenset[str]:
    """The codes of one codelist CSV (``tenderStatus``, ``partyRole`` …)."""
    with (SCHEMA_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return frozenset(row["Code"] for row in csv.DictReader(handle))


def problems(package: dict[str, Any]) -> list[str]:
    """Every schema error and codelist violation in a package (empty when it is valid)."""
    found = [
        f"{_where(package, list(error.absolute_path))}: {error.message}"
        for error in package_validator().iter_errors(package)
    ]
    release_ids = [r.get("id") for r in package.get("releases", [])]
    if len(set(release_ids)) != len(release_ids):
        found.append(f"release ids repeat: {release_ids}")
    for release in package.get("releases", []):
        _release_problems(found, release)
    return found


def _where(package: dict[str, Any], path: list[Any]) -> str:
    """A schema error's path, with the release's id when it is inside one (for people)."""
    text = "/".join(map(str, path)) or "<package>"
    releases = package.get("releases")
    if len(path) > 1 and path[0] == "releases" and isinstance(releases, list):
        release = releases[path[1]] if isinstance(path[1], int) else None
        if isinstance(release, dict) and release.get("id"):
            text += f" (release {release['id']})"
    return text


def _release_problems(found: list[str], release: dict[str, Any]) -> None:
    """Codelists and internal references of one release (the schema cannot say these)."""
    where = release.get("id")
    _check(found, where, "tag", release.get("tag", []), "releaseTag")
    _check(found, where, "initiationType", [release.get("initiationType")], "initiationType")
    party_ids = [p.get("id") for p in release.get("parties", [])]
    if len(set(party_ids)) != len(party_ids):
        found.append(f"{where}: party ids repeat: {party_ids}")
    for party in release.get("parties", []):
        _check(found, where, "parties.roles", party.get("roles", []), "partyRole")
    tender = release.get("tender") or {}
    if "status" in tender:
        _check(found, where, "tender.status", [tender["status"]], "tenderStatus")
    if "procurementMethod" in tender:
        _check(found, where, "procurementMethod", [tender["procurementMethod"]], "method")
    lot_ids = {lot.get("id") for lot in tender.get("lots", [])}
    for lot in tender.get("lots", []):
        _check(found, where, "lots.status", [lot.get("status")], "tenderStatus")
    for item in tender.get("items", []):
        if item.get("relatedLot") not in lot_ids:
            lot = item.get("relatedLot")
            found.append(f"{where}: item {item.get('id')} names unknown lot {lot}")
    for award in release.get("awards", []):
        _check(found, where, "awards.status", [award.get("status")], "awardStatus")
    for reference in _organisation_references(release):
        if reference.get("id") not in party_ids:
            found.append(f"{where}: {reference.get('id')} is referenced but not in parties")


def _organisation_references(release: dict[str, Any]) -> list[dict[str, Any]]:
    tender = release.get("tender") or {}
    references = [tender["procuringEntity"]] if "procuringEntity" in tender else []
    references += tender.get("tenderers", [])
    for award in release.get("awards", []):
        references += award.get("suppliers", [])
    return references


def _check(found: list[str], where: object, name: str, codes: list[Any], listname: str) -> None:
    allowed = codelist(listname)
    for code in codes:
        if code not in allowed:
            found.append(f"{where}: {name} {code!r} is not in {listname}.csv")
