#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing: poppler-utils (pdfsig) and Chromium.
set -euo pipefail
missing=()
command -v pdfsig >/dev/null || missing+=(poppler-utils)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-tools: installing ${missing[*]} (apt)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
