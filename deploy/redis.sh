#!/usr/bin/env bash
# Local throwaway Redis (no persistence) for development and CI.
#
#   deploy/redis.sh start|stop|status
#
# Environment:
#   LEADROI_REDIS_PORT  port        (default 16379)
#   LEADROI_STATE_DIR   state root  (default <repo>/.state); Redis keeps its
#                       pid, log and working dir in ./redis
#
# `start` installs Debian's redis-server if it is missing and prints the URL
# (redis://127.0.0.1:PORT/0) on stdout; progress messages go to stderr.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

PORT=${LEADROI_REDIS_PORT:-16379}
STATE_DIR=${LEADROI_STATE_DIR:-$REPO_ROOT/.state}
START_TIMEOUT=20
STOP_TIMEOUT=10

mkdir -p "$STATE_DIR/redis"
REDIS_STATE=$(cd "$STATE_DIR/redis" && pwd)
PID_FILE=$REDIS_STATE/redis.pid
LOG_FILE=$REDIS_STATE/redis.log
URL=redis://127.0.0.1:$PORT/0

log() { echo "redis: $*" >&2; }
die() { log "$*"; exit 1; }

ping() {
    [[ $(timeout 2 redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null) == PONG ]]
}

alive() {
    [[ -e /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# The pid from the pid file, if that process is alive and is a redis-server
# (not a recycled pid belonging to something else).
server_pid() {
    local pid
    [[ -f $PID_FILE ]] || return 1
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server ]] || return 1
    echo "$pid"
}

is_running() {
    server_pid >/dev/null && ping
}

lock_state() {
    exec 9>"$REDIS_STATE/.lock"
    flock -w 60 9 || die "timed out waiting for $REDIS_STATE/.lock"
}

ensure_installed() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
    [[ $(id -u) == 0 ]] || die "redis-server is not installed (apt-get install redis-server)"
    log "installing redis-server with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get install -y -q --no-install-recommends redis-server)
    # A fresh machine may have no package lists yet; update only if needed.
    if ! "${apt[@]}" >&2; then
        apt-get update -q >&2
        "${apt[@]}" >&2
    fi
}

kill_server() {
    local pid=$1 waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while alive "$pid"; do
        if ((waited >= STOP_TIMEOUT * 10)); then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    while alive "$pid"; do sleep 0.1; done
}

start() {
    ensure_installed
    lock_state
    if is_running; then
        log "already running (pid $(server_pid)) on port $PORT"
        echo "$URL"
        return 0
    fi
    local pid
    if pid=$(server_pid); then
        log "pid $pid does not answer PING on port $PORT, stopping it"
        kill_server "$pid"
    fi
    rm -f "$PID_FILE"
    if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then
        die "port $PORT is already in use by a process this script did not start"
    fi

    [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
    # 9>&-: the daemon must not inherit (and so hold) the state lock.
    redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" \
        --save "" --appendonly no \
        --pidfile "$PID_FILE" --logfile "$LOG_FILE" --dir "$REDIS_STATE" \
        </dev/null >/dev/null 2>&1 9>&- || true

    local waited=0
    until ping; do
        if ((waited >= START_TIMEOUT * 10)); then
            log "no PONG within ${START_TIMEOUT}s; last lines of $LOG_FILE:"
            tail -n 20 "$LOG_FILE" >&2 || true
            if pid=$(server_pid); then kill_server "$pid"; fi
            rm -f "$PID_FILE"
            exit 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    log "ready (pid $(server_pid || echo '?')) on port $PORT"
    echo "$URL"
}

stop() {
    lock_state
    local pid
    if pid=$(server_pid); then
        log "stopping pid $pid"
        timeout 5 redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
        local waited=0
        while alive "$pid" && ((waited < STOP_TIMEOUT * 10)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        alive "$pid" && kill_server "$pid"
        log "stopped"
    else
        log "not running"
    fi
    rm -f "$PID_FILE"
}

status() {
    if command -v redis-cli >/dev/null && is_running; then
        echo "$URL"
        return 0
    fi
    log "not running on port $PORT"
    return 1
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
