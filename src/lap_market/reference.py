"""Reference data created by migrations: the London authorities and the service categories."""

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

LMA_NAME = "London Metropolitan Archives"
PARTNERSHIP_NAME = "London Archives Partnership"

# code, name, CPV code, CPV description, units (code, name, per_year, whole)
CATEGORIES: list[tuple[str, str, str, str, list[tuple[str, str, bool, bool]]]] = [
    (
        "storage", "Archive storage", "63121100-4", "Storage services",
        [
            ("linear_metre_year", "linear metre per year", True, False),
            ("box_year", "box per year", True, True),
            ("cubic_metre_year", "cubic metre per year", True, False),
        ],
    ),
    (
        "conservation", "Conservation", "92512000-3", "Archive services",
        [("item", "item", False, True), ("hour", "hour", False, False)],
    ),
    (
        "digitisation", "Digitisation", "79999100-4", "Scanning services",
        [("image", "image", False, True), ("item", "item", False, True)],
    ),
    (
        "training", "Training", "80530000-8", "Vocational training services",
        [("delegate_place", "delegate place", False, True), ("course_day", "course day", False, True)],
    ),
]
