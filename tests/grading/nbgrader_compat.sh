#!/usr/bin/env bash
# Real nbgrader accepts our masters (run by .ci/run). nbgrader lives in its own
# virtualenv, never in the project's: students and `dsai` do not need it.
#   NBGRADER_VENV  where to put that virtualenv (default /tmp/dsai-nbgrader-venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${NBGRADER_VENV:-/tmp/dsai-nbgrader-venv}"
if [ ! -x "$VENV/bin/nbgrader" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check nbgrader==0.9.6
fi
NBGRADER="$VENV/bin/nbgrader" .venv/bin/python -m pytest -q -rs tests/grading/test_grading_nbgrader_compat.py
