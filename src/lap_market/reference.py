"""Reference data created by migrations: the London authorities and the service categories."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

# The 33 London local authorities with their ONS GSS codes.
LONDON_AUTHORITIES: list[tuple[str, str]] = [
    ("E09000001", "City of London"),
    ("E09000002", "Barking and Dagenham"),
    ("E09000003", "Barnet"),
    ("E09000004", "Bexley"),
    ("E09000005", "Brent"),
    ("E09000006", "Bromley"),
    ("E09000007", "Camden"),
    ("E09000008", "Croydon"),
    ("E09000009", "Ealing"),
    ("E09000010", "Enfield"),
    ("E09000011", "Greenwich"),
    ("E09000012", "Hackney"),
    ("E09000013", "Hammersmith and Fulham"),
    ("E09000014", "Haringey"),
    ("E09000015", "Harrow"),
    ("E09000016", "Havering"),
    ("E09000017", "Hillingdon"),
    ("E09000018", "Hounslow"),
    ("E09000019", "Islington"),
    ("E09000020", "Kensington and Chelsea"),
    ("E09000021", "Kingston upon Thames"),
    ("E09000022", "Lambeth"),
    ("E09000023", "Lewisham"),
    ("E09000024", "Merton"),
    ("E09000025", "Newham"),
    ("E09000026", "Redbridge"),
    ("E09000027", "Richmond upon Thames"),
    ("E09000028", "Southwark"),
    ("E09000029", "Sutton"),
    ("E09000030", "Tower Hamlets"),
    ("E09000031", "Waltham Forest"),
    ("E09000032", "Wandsworth"),
    ("E09000033", "Westminster"),
]

# The councils' official names, as they sign contracts; the rest are "London Borough of X".
OFFICIAL_NAMES: dict[str, str] = {
    "E09000001": "City of London Corporation",
    "E09000011": "Royal Borough of Greenwich",
    "E09000012": "London Borough of Hackney",
    "E09000020": "Royal Borough of Kensington and Chelsea",
    "E09000021": "Royal Borough of Kingston upon Thames",
    "E09000033": "City of Westminster",
}


def legal_name(gss_code: str) -> str:
    """A London authority's official name, by its GSS code."""
    short = dict(LONDON_AUTHORITIES)[gss_code]
    return OFFICIAL_NAMES.get(gss_code, f"London Borough of {short}")


LMA_NAME = "London Metropolitan Archives"
# LMA is not a legal person: the City of London Corporation runs it and signs for it.
LMA_LEGAL_NAME = "City of London Corporation"
PARTNERSHIP_NAME = "London Archives Partnership"

# code, name, CPV code, CPV description, units (code, name, per_year, whole)
CATEGORIES: list[tuple[str, str, str, str, list[tuple[str, str, bool, bool]]]] = [
    (
        "storage",
        "Archive storage",
        "63121100-4",
        "Storage services",
        [
            ("linear_metre_year", "linear metre per year", True, False),
            ("box_year", "box per year", True, True),
            ("cubic_metre_year", "cubic metre per year", True, False),
        ],
    ),
    (
        "conservation",
        "Conservation",
        "92512000-3",
        "Archive services",
        [("item", "item", False, True), ("hour", "hour", False, False)],
    ),
    (
        "digitisation",
        "Digitisation",
        "79999100-4",
        "Scanning services",
        [("image", "image", False, True), ("item", "item", False, True)],
    ),
    (
        "training",
        "Training",
        "80530000-8",
        "Vocational training services",
        [
            ("delegate_place", "delegate place", False, True),
            ("course_day", "course day", False, True),
        ],
    ),
]


def insert_reference_data(op: Any) -> None:
    """The London authorities, LMA, the partnership and the service categories."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    organisation = sa.table(
        "organisation",
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("gss_code", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = [
        {"name": name, "kind": "borough", "gss_code": gss, "created_at": now}
        for gss, name in LONDON_AUTHORITIES
    ]
    rows.append({"name": LMA_NAME, "kind": "lma", "gss_code": None, "created_at": now})
    rows.append(
        {"name": PARTNERSHIP_NAME, "kind": "partnership", "gss_code": None, "created_at": now}
    )
    op.bulk_insert(organisation, rows)

    category = sa.table(
        "category",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("cpv_code", sa.String),
        sa.column("cpv_description", sa.String),
    )
    unit = sa.table(
        "categoryunit",
        sa.column("category_id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("per_year", sa.Boolean),
        sa.column("whole", sa.Boolean),
    )
    for number, (code, name, cpv, cpv_description, units) in enumerate(CATEGORIES, start=1):
        op.bulk_insert(
            category,
            [
                {
                    "id": number,
                    "code": code,
                    "name": name,
                    "cpv_code": cpv,
                    "cpv_description": cpv_description,
                }
            ],
        )
        op.bulk_insert(
            unit,
            [
                {
                    "category_id": number,
                    "code": u_code,
                    "name": u_name,
                    "per_year": per_year,
                    "whole": whole,
                }
                for u_code, u_name, per_year, whole in units
            ],
        )
    if op.get_bind().dialect.name == "postgresql":
        # Explicit ids above leave the sequence behind.
        op.execute("SELECT setval('category_id_seq', (SELECT max(id) FROM category))")
