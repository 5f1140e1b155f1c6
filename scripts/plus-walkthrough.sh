#!/usr/bin/env bash
# Variant Plus from start to end against a running demo, over HTTP only: no database, no platform imports.
#
#   scripts/plus-walkthrough.sh [BASE_URL]      (default http://127.0.0.1:8000)
#
# The housing corporation asks for income (required) and an address (optional), with standing access; a demo
# citizen logs in with the DigiD mock, unticks the address and approves; the corporation receives exactly the
# income fields, fetches once more under its standing access, the citizen withdraws, and the next fetch is refused.
# It exits 0 only when all of that happened. The corporation signs its calls with its own key (private_key_jwt):
# the demo made it at first run in its key folder (BLAUWEKNOP_KEY_DIR, else keys/ in BLAUWEKNOP_DATA_DIR, else var/keys/,
# as the demo itself finds it); BLAUWEKNOP_WALKTHROUGH_KEY names it elsewhere.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
base="${1:-http://127.0.0.1:8000}"
python="${PYTHON:-$here/.venv/bin/python}"
requester="${BLAUWEKNOP_WALKTHROUGH_REQUESTER:-00000003271247970000}"  # Woningcorporatie Thuisbasis
keys="${BLAUWEKNOP_KEY_DIR:-${BLAUWEKNOP_DATA_DIR:-$here/var}/keys}"
key="${BLAUWEKNOP_WALKTHROUGH_KEY:-$keys/$requester.jwk}"
if [ ! -r "$key" ]; then
  echo "The requester's private key is not at $key: run 'make demo' first (with the same BLAUWEKNOP_DATA_DIR), or set BLAUWEKNOP_WALKTHROUGH_KEY." >&2
  exit 2
fi
exec "$python" "$here/scripts/plus_walkthrough.py" "$base" "$requester" "$key"
