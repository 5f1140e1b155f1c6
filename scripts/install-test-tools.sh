#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing: poppler-utils (pdfsig), Chromium, and
# redis-server (a throwaway one shows the shared cache working through Redis; the service is not used).
set -euo pipefail
missing=()
command -v pdfsig >/dev/null || missing+=(poppler-utils)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-tools: installing ${missing[*]} (apt)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
