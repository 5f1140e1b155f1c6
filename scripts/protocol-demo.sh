#!/usr/bin/env bash
# A walk through the protocol with the `blauweknop` command: a municipality issues a certified
# copy, the citizen shows only their place of residence to a bank, the bank checks it.
# The web demo (Mijn-omgeving, verify page) replaces this when the platform lands.
set -euo pipefail
bk=${BLAUWEKNOP:-$PWD/.venv/bin/blauweknop}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
say() { printf '\n== %s\n' "$*"; }

say "Keys: the municipality signs, the citizen's wallet proves it is theirs"
"$bk" keys generate --out gemeente.jwk
"$bk" keys generate --out wallet.jwk
"$bk" keys public gemeente.jwk > gemeente.pub.jwk
"$bk" keys public wallet.jwk > wallet.pub.jwk

cat > gegevens.json <<'JSON'
{"naam": {"voornaam": "Fatima", "achternaam": "El Amrani (fictief)"},
 "adres": {"straat": "Lindenlaan", "huisnummer": 14, "woonplaats": "Voorbeeldstad"},
 "inkomen": {"brutoPerMaandInCenten": 312550}}
JSON

say "The municipality issues a certified copy (every field can be hidden)"
"$bk" credential issue --issuer-key gemeente.jwk --iss https://gemeente-voorbeeldstad.example/blauweknop \
  --vct https://stelsel.blauweknop.example/vct/persoonsgegevens/1 --claims gegevens.json \
  --holder-jwk wallet.pub.jwk > kopie.sdjwt
echo "$(wc -c < kopie.sdjwt) bytes, $(tr -cd '~' < kopie.sdjwt | wc -c) parts"

say "The citizen shows only their place of residence to the bank"
"$bk" credential present kopie.sdjwt --disclose adres.woonplaats \
  --holder-key wallet.jwk --aud https://bank.example --nonce demo-123 > voor-bank.sdjwt

say "The bank checks it"
"$bk" verify voor-bank.sdjwt --issuer-jwks gemeente.pub.jwk --aud https://bank.example --nonce demo-123 \
  --require-key-binding

say "Someone changes one character: the bank sees it"
awk '{ c = substr($0, 41, 1); print substr($0, 1, 40) (c == "A" ? "B" : "A") substr($0, 42) }' \
  voor-bank.sdjwt > veranderd.sdjwt
if "$bk" verify veranderd.sdjwt --issuer-jwks gemeente.pub.jwk; then exit 1; fi
