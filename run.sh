#!/bin/sh
# Set up (first time only) and start cowviz on http://127.0.0.1:5000
set -e
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/python app.py "$@"
