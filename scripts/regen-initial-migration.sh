#!/usr/bin/env bash
# Regenerate the initial migration from the models (allowed until the first production release).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file=migrations/versions/2026_11_25-0001_foundation_schema_and_reference_data.py
rm -f "$file"
LAP_DATABASE_URL="sqlite:///$tmp/gen.db" LAP_DATA_DIR="$tmp" .venv/bin/alembic -c alembic.ini revision \
  --autogenerate --rev-id 0001 -m "foundation schema and reference data" >/dev/null
python3 - "$file" <<'PY'
import sys
path = sys.argv[1]
src = open(path).read()
src = src.replace("from alembic import op\n", "from alembic import op\n\nfrom lap_market.reference import insert_reference_data\n", 1)
marker = "    # ### end Alembic commands ###\n"
src = src.replace(marker, marker + "    insert_reference_data(op)\n", 1)
open(path, "w").write(src)
PY
sed -i "s/[[:space:]]*$//" "$file"
.venv/bin/ruff check -q --fix "$file" || true
.venv/bin/ruff format -q "$file" || true
echo "regenerated $file"
