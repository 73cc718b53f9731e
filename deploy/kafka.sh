#!/usr/bin/env bash
# Local single-node Kafka (KRaft, combined broker + controller) run straight
# from Maven Central jars, for development and CI machines without Docker.
#
#   deploy/kafka.sh start|stop|status|ensure-jars
#
# Environment:
#   LEADROI_KAFKA_PORT             client port      (default 19092)
#   LEADROI_KAFKA_CONTROLLER_PORT  controller port  (default 19093)
#   LEADROI_STATE_DIR              state root       (default <repo>/.state);
#                                  Kafka keeps config, data, log, pid in ./kafka
#   LEADROI_KAFKA_START_TIMEOUT    readiness timeout in seconds (default 90)
#
# `start` prints the bootstrap address (127.0.0.1:PORT) on stdout; progress
# messages go to stderr.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
KAFKA_DIR=$SCRIPT_DIR/kafka
LIB_DIR=$KAFKA_DIR/lib
POM=$KAFKA_DIR/pom.xml
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

PORT=${LEADROI_KAFKA_PORT:-19092}
CONTROLLER_PORT=${LEADROI_KAFKA_CONTROLLER_PORT:-19093}
STATE_DIR=${LEADROI_STATE_DIR:-$REPO_ROOT/.state}
START_TIMEOUT=${LEADROI_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=30

mkdir -p "$STATE_DIR/kafka"
KAFKA_STATE=$(cd "$STATE_DIR/kafka" && pwd)
DATA_DIR=$KAFKA_STATE/data
CONFIG=$KAFKA_STATE/server.properties
PID_FILE=$KAFKA_STATE/kafka.pid
LOG_FILE=$KAFKA_STATE/kafka.log
ADDRESS=127.0.0.1:$PORT

log() { echo "kafka: $*" >&2; }
die() { log "$*"; exit 1; }

port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# The pid from the pid file, if that process is alive and is our broker (not a
# recycled pid belonging to something else).
broker_pid() {
    local pid
    [[ -f $PID_FILE ]] || return 1
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $CONFIG" || return 1
    echo "$pid"
}

alive() {
    [[ -e /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

is_running() {
    broker_pid >/dev/null && port_open "$PORT"
}

# Serialise start/stop for one state dir, so two callers (e.g. parallel test
# sessions) never format or kill under each other.
lock_state() {
    exec 9>"$KAFKA_STATE/.lock"
    flock -w 150 9 || die "timed out waiting for $KAFKA_STATE/.lock"
}

ensure_jars() {
    local stamp=$LIB_DIR/.complete want tmp
    want=$(sha256sum "$POM" | cut -d' ' -f1)
    # Locking the POM itself (read-only) avoids another untracked file; it
    # keeps concurrent fetches from racing on lib/.
    exec 8<"$POM"
    flock -w 600 8 || die "timed out waiting for another jar fetch"
    if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
        exec 8<&-
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
    log "fetching broker jars with Maven into $LIB_DIR"
    tmp=$(mktemp -d "$KAFKA_DIR/.lib.XXXXXX")
    # Fully qualified: Maven 3.8 would otherwise pick dependency plugin 2.8.
    # Its output (colour escapes even with -q) is shown only on failure.
    if ! mvn -B -q -f "$POM" "$DEPENDENCY_PLUGIN:copy-dependencies" \
            -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
        cat "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        die "Maven could not fetch the broker jars"
    fi
    rm -f "$tmp.log"
    echo "$want" >"$tmp/.complete"
    rm -rf "$LIB_DIR"
    mv "$tmp" "$LIB_DIR"
    exec 8<&-
    log "$(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $LIB_DIR"
}

# Same rule as org.apache.kafka.common.Uuid.randomUuid(): 16 random bytes,
# URL-safe base64 without padding, never starting with '-'.
new_cluster_id() {
    python3 - <<'EOF'
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    if not s.startswith("-"):
        print(s)
        break
EOF
}

render_config() {
    sed -e "s|@KAFKA_PORT@|$PORT|g" \
        -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
        -e "s|@DATA_DIR@|$DATA_DIR|g" \
        "$KAFKA_DIR/server.properties.in" >"$CONFIG"
}

log_tail() {
    log "last lines of $LOG_FILE:"
    tail -n 40 "$LOG_FILE" >&2 || true
}

kill_broker() {
    local pid=$1 waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while alive "$pid"; do
        if ((waited >= STOP_TIMEOUT * 2)); then
            log "pid $pid still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    while alive "$pid"; do sleep 0.1; done
}

start() {
    ensure_jars
    lock_state
    local pid
    if is_running; then
        log "already running (pid $(broker_pid)) on $ADDRESS"
        echo "$ADDRESS"
        return 0
    fi
    # A broker of ours that is alive but does not answer is hung: replace it.
    if pid=$(broker_pid); then
        log "pid $pid does not answer on $ADDRESS, stopping it"
        kill_broker "$pid"
    fi
    rm -f "$PID_FILE"
    for p in "$PORT" "$CONTROLLER_PORT"; do
        port_open "$p" && die "port $p is already in use by another process"
    done
    command -v java >/dev/null || die "java not found (Java 17+ is required)"

    local classpath="$LIB_DIR/*"
    local log_opts=(-Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties"
                    -Dkafka.logs.dir="$KAFKA_STATE/logs")
    local cluster_id
    cluster_id=$(new_cluster_id)

    # Fresh start: a data dir formatted with an older cluster id would be
    # refused, and old topics would leak between runs.
    rm -rf "$DATA_DIR"
    [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
    render_config
    log "formatting $DATA_DIR (cluster id $cluster_id)"
    if ! java -Xmx256m "${log_opts[@]}" -cp "$classpath" kafka.tools.StorageTool \
            format --standalone -t "$cluster_id" -c "$CONFIG" >>"$LOG_FILE" 2>&1; then
        log_tail
        die "storage format failed"
    fi

    log "starting broker on $ADDRESS (controller 127.0.0.1:$CONTROLLER_PORT)"
    # setsid: the broker must outlive the caller's terminal or process group
    # (Ctrl-C, a test runner's cleanup). The inner shell writes its own pid and
    # execs java, so the pid file is right even if setsid has to fork.
    # stdin/stdout/stderr are detached so a caller capturing our output
    # (subprocess.run(capture_output=True)) is not held open by the broker,
    # and fd 9 is closed so the broker does not keep the state lock forever.
    # shellcheck disable=SC2016 # expanded by the inner shell
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_FILE" \
        java -Xms512m -Xmx512m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
        -XX:MaxInlineLevel=15 -Djava.awt.headless=true "${log_opts[@]}" \
        -cp "$classpath" kafka.Kafka "$CONFIG" \
        </dev/null >>"$LOG_FILE" 2>&1 9>&- &

    local started=$SECONDS
    pid=""
    while ((SECONDS - started < START_TIMEOUT)); do
        sleep 0.5
        [[ -z $pid && -s $PID_FILE ]] && pid=$(<"$PID_FILE")
        [[ -n $pid ]] || continue  # not yet written by the wrapper
        if ! alive "$pid"; then
            log_tail
            rm -f "$PID_FILE"
            die "broker exited during startup"
        fi
        if grep -q "Kafka Server started" "$LOG_FILE" && port_open "$PORT"; then
            log "ready (pid $pid) after $((SECONDS - started))s"
            echo "$ADDRESS"
            return 0
        fi
    done
    log_tail
    [[ -n $pid ]] && kill_broker "$pid"
    rm -f "$PID_FILE"
    die "not ready within ${START_TIMEOUT}s"
}

stop() {
    lock_state
    local pid
    if pid=$(broker_pid); then
        log "stopping pid $pid"
        kill_broker "$pid"
        log "stopped"
    else
        log "not running"
    fi
    rm -f "$PID_FILE"
}

status() {
    if is_running; then
        echo "$ADDRESS"
        return 0
    fi
    log "not running on $ADDRESS"
    return 1
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    ensure-jars) ensure_jars ;;
    *) echo "usage: $0 start|stop|status|ensure-jars" >&2; exit 2 ;;
esac
