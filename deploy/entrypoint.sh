#!/bin/sh
# The image's entrypoint: prepares what must be fresh at every start, then runs the command given
# (uvicorn by default; `python manage.py db_worker --no-reload`, `python -m blauweknop.scheduler`,
# `python manage.py migrate --noinput`, `blauweknop keys generate ...`).
set -eu
# prometheus_client's multiprocess folder must be empty before the web workers start, or the
# counters of an earlier run are added to this one's (docs/operations.md, Metrics).
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
fi
exec "$@"
