#!/bin/sh
# Set up (first time only) and run every test: engine, scenarios, diagrams, web, browser, live-kernel lab.
set -e
cd "$(dirname "$0")"
scripts/setup.sh --tests
exec .venv/bin/python -m pytest -q "$@"
