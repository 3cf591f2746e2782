#!/usr/bin/env bash
# Create a separate venv for the OpenFisca comparison bench (bench/rules_vs_openfisca.py).
# OpenFisca is never installed into the project's .venv: it pins its own numpy range.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv-bench"
PYTHON="${PYTHON:-python3}"

if [ ! -x "${VENV}/bin/python" ]; then
    "${PYTHON}" -m venv "${VENV}"
fi
"${VENV}/bin/python" -m pip install --quiet --upgrade pip
# openfisca-core declares its own numpy bounds; let pip pick the newest numpy it accepts,
# then add the engine's own dependencies (lark, PyYAML) without touching numpy.
"${VENV}/bin/python" -m pip install --quiet "openfisca-core>=43" "lark>=1.2" "PyYAML>=6.0"
"${VENV}/bin/python" - <<'PY'
import lark, numpy, openfisca_core
from importlib.metadata import version
print("openfisca-core", version("openfisca-core"), "numpy", numpy.__version__, "lark", lark.__version__)
PY
echo "bench venv ready: ${VENV}"
echo "run: PYTHONPATH=${ROOT} ${VENV}/bin/python ${ROOT}/bench/rules_vs_openfisca.py"
