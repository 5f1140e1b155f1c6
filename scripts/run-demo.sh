#!/usr/bin/env bash
# The demo's processes: the web server, one worker for the background work, and the scheduler that
# enqueues that work. When one of them stops, or on Ctrl-C, all three stop.
# Usage (from the project folder, after migrate and seed_demo): PORT=8000 scripts/run-demo.sh
# PORT must be the one seed_demo ran with: the scheme document names that address. `make demo PORT=...` does both.
set -euo pipefail
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}
pids=()

stop() {
    trap - INT TERM EXIT
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

"$BIN/python" manage.py db_worker --no-reload &
pids+=($!)
"$BIN/python" -m blauweknop.scheduler &
pids+=($!)
"$BIN/uvicorn" blauweknop.asgi:application --host 127.0.0.1 --port "$PORT" --lifespan off &
pids+=($!)
wait -n "${pids[@]}"
