#!/usr/bin/env bash
# Start, stop or check every backing service leadroi needs locally: Kafka and
# Redis (see deploy/kafka.sh and deploy/redis.sh for the environment they read).
#
#   deploy/services.sh start|stop|status
#
# `start` and `status` print the addresses as environment assignments, e.g.
#   eval "$(deploy/services.sh start)"
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

case ${1:-} in
    start)
        kafka=$("$SCRIPT_DIR/kafka.sh" start)
        redis=$("$SCRIPT_DIR/redis.sh" start)
        echo "LEADROI_KAFKA_BOOTSTRAP=$kafka"
        echo "LEADROI_REDIS_URL=$redis"
        ;;
    stop)
        # Stop both even if one of them fails.
        rc=0
        "$SCRIPT_DIR/kafka.sh" stop || rc=1
        "$SCRIPT_DIR/redis.sh" stop || rc=1
        exit "$rc"
        ;;
    status)
        rc=0
        kafka=$("$SCRIPT_DIR/kafka.sh" status) || rc=1
        redis=$("$SCRIPT_DIR/redis.sh" status) || rc=1
        [[ -n $kafka ]] && echo "LEADROI_KAFKA_BOOTSTRAP=$kafka"
        [[ -n $redis ]] && echo "LEADROI_REDIS_URL=$redis"
        exit "$rc"
        ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
