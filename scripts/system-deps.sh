#!/usr/bin/env bash
# Install the Debian packages LAP Market needs outside the virtualenv.
#
#   scripts/system-deps.sh run    # WeasyPrint's libraries (pango, harfbuzz-subset)
#   scripts/system-deps.sh test   # the above + Chromium + PostgreSQL 15
#
# Does nothing when everything is present. As root it installs what is missing with
# apt-get; otherwise it prints the command to run and carries on (the tests then fail
# loudly on whatever is still missing).
set -euo pipefail

mode="${1:-run}"
PG_BIN="${LAP_PG_BIN:-/usr/lib/postgresql/15/bin}"

# Read the whole cache first: `ldconfig -p | grep -q` fails under pipefail when grep stops
# early (SIGPIPE), which made present libraries look missing.
libs=$( { ldconfig -p || /sbin/ldconfig -p || /usr/sbin/ldconfig -p; } 2>/dev/null || true)
have_lib() { grep -q "$1" <<<"$libs"; }

missing=()
have_lib 'libpango-1\.0\.so\.0' || missing+=(libpango-1.0-0)
have_lib 'libpangoft2-1\.0\.so\.0' || missing+=(libpangoft2-1.0-0)
have_lib 'libharfbuzz-subset\.so\.0' || missing+=(libharfbuzz-subset0)
# The contract PDFs are set in DejaVu Sans.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

# Debian's python3 cannot make a virtualenv without python3-venv.
python="${PYTHON:-python3}"
if [ ! -x "${VENV:-.venv}/bin/python" ] && [ "$(command -v "$python" || true)" = /usr/bin/python3 ] \
    && ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  missing+=(python3-venv)
fi

case "$mode" in
  run) ;;
  test)
    command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -x "$PG_BIN/initdb" ] || missing+=(postgresql-15)
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac

[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
  {
    echo "system-deps: missing system packages: ${missing[*]}"
    echo "system-deps: install them with:"
    echo "    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
    if [ "$mode" = test ]; then
      echo "system-deps: (or set LAP_TEST_POSTGRES_URL to an existing PostgreSQL 15 server)"
    fi
  } >&2
fi
