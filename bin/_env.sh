# Shared set-up for bin/demo and bin/test: a virtual environment with the
# locked dependencies, re-installed only when a lock file changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
LOCK="${1:-requirements-dev.txt}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum "$LOCK" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing $LOCK into .venv" >&2
  .venv/bin/pip install --quiet --no-compile --disable-pip-version-check -r "$LOCK"
  rm -f .venv/.installed-* && touch "$stamp"
fi
