#!/usr/bin/env bash
# One entry point for a fresh machine: sets everything up, then runs the demo or the tests.
#   bash scripts/dev.sh demo    # set up, train a classifier, write its graph, check a backprop
#   bash scripts/dev.sh test    # set up, run the whole test suite
#   bash scripts/dev.sh notebooks [jupyter options]   # set up, open docs/tutorials/ in Jupyter
#   bash scripts/dev.sh setup   # only set up
# Setting up means: Graphviz's `dot` (through apt-get when missing and we are root), a virtual
# environment in .venv, and this package installed in it (editable) with its dev and examples
# extras. Running it again is cheap: everything already there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

ensure_dot() {
    if command -v dot >/dev/null 2>&1; then
        return
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing Graphviz (dot) with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
    else
        echo "warning: Graphviz's 'dot' program is missing, so graphs cannot be rendered to SVG." >&2
        echo "  install it with your package manager, e.g. 'sudo apt-get install graphviz'" >&2
        echo "  (Debian/Ubuntu) or 'brew install graphviz' (macOS), then run this again." >&2
    fi
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "== creating virtual environment $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    echo "== installing tinygrad_edu with its dev and examples extras"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev,examples]"
}

setup() {
    ensure_dot
    ensure_venv
}

ensure_jupyter() {
    # The notebook server is only needed to read the tutorials interactively (the tests run
    # them with nbclient, which the dev extra installs), so it is installed on first use.
    if ! "$VENV/bin/python" -c "import notebook" >/dev/null 2>&1; then
        echo "== installing Jupyter Notebook into $VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "notebook>=7"
    fi
}

case "${1:-}" in
    setup)
        setup
        ;;
    demo)
        setup
        echo "== demo 1: train a classifier (examples/classify_synthetic.py), draw its graph"
        "$VENV/bin/python" examples/classify_synthetic.py graph.svg
        echo
        echo "== demo 2: check a hand-derived backward pass (examples/check_my_backprop.py)"
        "$VENV/bin/python" examples/check_my_backprop.py
        ;;
    test)
        setup
        echo "== tests"
        "$VENV/bin/python" -m pytest
        ;;
    notebooks)
        setup
        ensure_jupyter
        shift
        as_root=()
        if [ "$(id -u)" = 0 ]; then
            as_root=(--allow-root)      # Jupyter refuses root otherwise (containers, CI)
        fi
        echo "== opening the tutorials (docs/tutorials/) in Jupyter; stop it with Ctrl-C"
        exec "$VENV/bin/python" -m jupyter notebook --notebook-dir=docs/tutorials \
            "${as_root[@]}" "$@"
        ;;
    *)
        echo "usage: bash scripts/dev.sh demo|test|notebooks|setup" >&2
        exit 2
        ;;
esac
