#!/usr/bin/env bash
# Build an isolated venv for the public `inforion` client (PyPI 2.26.2.4), used by the Infor sandbox's
# conformance test. Its 2020-era pins (pandas 1.1, numpy 1.19, pyodbc) do not build on Python 3.11, so it is
# installed with --no-deps next to current versions of what its ION/M3 code paths import, with urllib3<2
# because it builds `Retry(method_whitelist=...)`; xlsxwriter and openpyxl are imported by its model package. pyodbc is replaced by a stand-in: the ION and M3 calls
# never use it. Idempotent: does nothing when the venv already imports inforion.
#
#   scripts/inforion-env.sh [VENV_DIR]     (default: .venv-inforion in the repository root)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$root/.venv-inforion}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3

# (run from the venv: importing inforion writes an inforion.log into the working directory)
if [ -x "$venv/bin/python" ] && (cd "$venv" && "$venv/bin/python" -c "import inforion.ionapi.controller") >/dev/null 2>&1; then
    echo "inforion env ready: $venv"
    exit 0
fi

"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install "urllib3<2" requests requests-oauthlib validators pandas progressbar2 curlify dload \
    logger xlrd xlsxwriter openpyxl click pyyaml
"${pip[@]}" install --no-deps "inforion==2.26.2.4"

site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cat > "$site/pyodbc.py" <<'PY'
"""Stand-in for pyodbc: inforion imports it at module level, but its ION and M3 calls never use it."""


def connect(*_args, **_kwargs):
    raise RuntimeError("pyodbc is a stand-in in this environment; ODBC is not available")
PY

(cd "$venv" && "$venv/bin/python" -c "import inforion.ionapi.controller, inforion.ionapi.model.inforlogin")
echo "inforion env ready: $venv"
