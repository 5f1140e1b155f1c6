#!/usr/bin/env bash
# Django's deployment checks (`check --deploy`) with the settings a real deployment has: https, secrets
# from the environment (throwaway ones here), no demo, no database URL of the shell. Usage: check-deploy.sh PYTHON
set -euo pipefail
python=${1:-python3}
cd "$(dirname "$0")/.."
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
secret() { "$python" -c 'import secrets; print(secrets.token_urlsafe(50))'; }
env -u BLAUWEKNOP_DEMO -u DATABASE_URL \
  DJANGO_SETTINGS_MODULE=blauweknop.settings \
  DJANGO_SECRET_KEY="$(secret)" \
  BLAUWEKNOP_PSEUDONYM_KEY="$(secret)" \
  BLAUWEKNOP_VAULT_KEY="$(secret)" \
  DJANGO_ALLOWED_HOSTS=blauweknop.example \
  DJANGO_DEBUG=False \
  BLAUWEKNOP_BASE_URL=https://blauweknop.example \
  BLAUWEKNOP_DATA_DIR="$data" \
  BLAUWEKNOP_HOLDER_OINS=00000009999999999000 \
  BLAUWEKNOP_REQUESTER_OINS=00000009999999998000 \
  "$python" manage.py check --deploy --fail-level WARNING
