#!/usr/bin/env bash
# Installs what leadroi needs on a fresh machine: the project's virtualenv with its
# Python dependencies, and (with --browser) Debian's chromium for browser tests.
# Safe to run again: each step is skipped when already done.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$REPO_ROOT/.venv
STAMP=$VENV/.installed

log() { echo "bootstrap: $*" >&2; }

apt_install() {
    if ! apt-get install -y -qq "$@" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    fi
}

if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
fi

# Reinstall when pyproject.toml changed since the last install.
wanted=$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -d' ' -f1)
if [[ ! -f $STAMP || $(<"$STAMP") != "$wanted" ]]; then
    log "installing Python dependencies"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e "$REPO_ROOT[test]"
    echo "$wanted" >"$STAMP"
fi

if [[ ${1:-} == --browser ]] && ! command -v chromium >/dev/null; then
    log "installing chromium (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt_install chromium
fi
