#!/usr/bin/env bash
# Runs leadroi's own processes in the background: tracker, stream worker, API.
#
#   deploy/app.sh start|stop|status
#
# They read their settings from LEADROI_* variables (see README); logs and pid
# files live in $LEADROI_STATE_DIR/app (default <repo>/.state/app).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${LEADROI_STATE_DIR:-$REPO_ROOT/.state}/app
LEADROI=$REPO_ROOT/.venv/bin/leadroi
TRACKER_PORT=${LEADROI_TRACKER_PORT:-8080}
API_PORT=${LEADROI_API_PORT:-8081}
export LEADROI_WORKER_DATADIR=${LEADROI_WORKER_DATADIR:-$STATE_DIR/worker-data}
mkdir -p "$STATE_DIR"

log() { echo "app: $*" >&2; }

pid_of() {
    local file=$STATE_DIR/$1.pid pid
    [[ -f $file ]] || return 1
    pid=$(<"$file")
    [[ -e /proc/$pid ]] || return 1
    echo "$pid"
}

wait_for() {  # name, check command...
    local name=$1 i
    shift
    for i in $(seq 1 120); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        pid_of "$name" >/dev/null || { tail -20 "$STATE_DIR/$name.log" >&2; return 1; }
        sleep 0.5
    done
    log "$name not ready after 60 s"; tail -20 "$STATE_DIR/$name.log" >&2; return 1
}

start_one() {  # name, leadroi subcommand
    local name=$1
    if pid_of "$name" >/dev/null; then log "$name already running"; return 0; fi
    : >"$STATE_DIR/$name.log"
    setsid "$LEADROI" "$2" >>"$STATE_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$STATE_DIR/$name.pid"
}

stop_one() {
    local name=$1 pid i
    pid=$(pid_of "$name") || { rm -f "$STATE_DIR/$name.pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    # A worker flushes its tables' changelogs before it exits: give it time.
    for i in $(seq 1 180); do [[ -e /proc/$pid ]] || break; sleep 0.5; done
    [[ -e /proc/$pid ]] && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$STATE_DIR/$name.pid"
    log "$name stopped"
}

case ${1:-} in
start)
    "$LEADROI" topics >&2
    start_one worker worker
    start_one tracker tracker
    start_one api api
    wait_for tracker curl -fsS "http://127.0.0.1:$TRACKER_PORT/healthz"
    wait_for api curl -fsS "http://127.0.0.1:$API_PORT/healthz"
    wait_for worker grep -q "Worker]: Ready" "$STATE_DIR/worker.log"
    log "tracker http://127.0.0.1:$TRACKER_PORT  api http://127.0.0.1:$API_PORT"
    ;;
stop)
    for name in tracker api worker; do stop_one "$name"; done
    ;;
status)
    for name in worker tracker api; do
        if pid=$(pid_of "$name"); then echo "$name running (pid $pid)"; else echo "$name stopped"; fi
    done
    ;;
*)
    echo "usage: $0 start|stop|status" >&2; exit 2
    ;;
esac
