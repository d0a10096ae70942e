#!/usr/bin/env bash
# Stops or starts one of the Rubrica instances ../../scale.sh runs behind nginx:
#   instance.sh stop N    SIGTERM, then wait until it has exited (it finishes its requests and
#                         the sends it has begun first)
#   instance.sh start N   start it again, and wait until it answers
# SCALE_DIR is the run's folder (scale.sh writes env and the pid files there).
set -euo pipefail
: "${SCALE_DIR:?run through scale.sh}"
# shellcheck source=/dev/null
source "$SCALE_DIR/env"
action="$1"
n="$2"
port=$((SCALE_FIRST_PORT + n))
pidfile="$SCALE_DIR/instance-$n.pid"
case "$action" in
  stop)
    pid="$(cat "$pidfile")"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    echo "instance $n (:$port) stopped"
    ;;
  start)
    RUBRICA_ADDR="127.0.0.1:$port" "$SCALE_ROOT/target/release/rubrica" serve \
      >>"$SCALE_DIR/instance-$n.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
      curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null
    echo "instance $n (:$port) started"
    ;;
  *)
    echo "usage: instance.sh stop|start N" >&2
    exit 2
    ;;
esac
