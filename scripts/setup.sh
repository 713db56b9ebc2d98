#!/bin/sh
# Set up everything cowviz needs on a fresh machine; safe to run again.
#   scripts/setup.sh           for running the app (Graphviz, Python packages, the socket.io client)
#   scripts/setup.sh --tests   also for the tests (Debian's chromium for the browser tests; redis-server
#                              and nginx for the multi-process room tests)
set -e
cd "$(dirname "$0")/.."

want=""
command -v dot >/dev/null 2>&1 || [ -n "$COWVIZ_DOT" ] || want="$want graphviz"
[ "$1" = "--tests" ] && [ ! -x /usr/bin/chromium ] && want="$want chromium"
# The multi-process room tests start a real Redis and nginx (docs/deploy.md).
[ "$1" = "--tests" ] && ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ] && want="$want redis-server"
[ "$1" = "--tests" ] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ] && want="$want nginx"
command -v npm >/dev/null 2>&1 || want="$want npm"
if [ -n "$want" ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "setup: installing system packages:$want"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want >/dev/null
    elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
        echo "setup: installing system packages with sudo:$want"
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want >/dev/null
    elif command -v brew >/dev/null 2>&1; then
        for p in $want; do [ "$p" = chromium ] || brew install "$p"; done
    else
        echo "setup: please install$want with your package manager, then run this again." >&2
        exit 1
    fi
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "setup: cowviz needs Python 3.10 or newer as $PY (set PYTHON=/path/to/python3)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    if ! "$PY" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        # Debian and Ubuntu ship venv separately.
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        fi
        "$PY" -m venv .venv || { echo "setup: cannot create a virtual environment (install python3-venv)." >&2; exit 1; }
    fi
fi
if [ ! -f .venv/.installed ] || [ requirements.txt -nt .venv/.installed ]; then
    echo "setup: installing Python packages"
    .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
    touch .venv/.installed
fi
if [ ! -d node_modules/socket.io-client ] || [ ! -d node_modules/codemirror ] || [ ! -d node_modules/axe-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing the browser libraries: socket.io client, CodeMirror; axe-core for the tests (npm ci)"
    npm ci --silent --no-audit --no-fund
fi
