#!/bin/sh
# Makes every secret and key deploy/compose.yaml needs, under deploy/secrets/, and the participant
# files the operator admits (they carry the public keys), under deploy/participants/. Neither folder
# is committed. Nothing that exists is overwritten: delete a file and run again to make only that one.
#
# Signing keys are made by the `blauweknop keys` command: installed (pip install .), or the image:
#   BLAUWEKNOP="docker run --rm -u $(id -u) -v $PWD/deploy/secrets:/secrets -w /secrets blauweknop:0.1.0 blauweknop" \
#     deploy/make-secrets.sh
set -eu
BLAUWEKNOP=${BLAUWEKNOP:-blauweknop}
# The OINs of compose.yaml: holder A, holder B, the portal (app manager). Keep them in step.
OINS="00000001823288444000 00000001003214345000 00000001234567890000"
DEPLOYMENTS="scheme holder_a holder_b portal"
POSTGRES_HOST=${POSTGRES_HOST:-postgres}

cd "$(dirname "$0")"
umask 077
mkdir -p secrets
chmod 700 secrets
cd secrets

random() { head -c 48 /dev/urandom | base64 | tr -d '\n/+='; }
# Writes standard input to $1, unless $1 exists.
keep() { if [ -e "$1" ]; then cat >/dev/null; else cat >"$1"; echo "made deploy/secrets/$1"; fi; }

random | keep postgres_password
random | keep metrics_token
random | keep portal_vault_key  # only the portal has a vault (docs/vault.md)
for name in $DEPLOYMENTS; do
    random | keep "${name}_db_password"
    random | keep "${name}_django_secret_key"
    random | keep "${name}_pseudonym_key"
    echo "postgres://${name}:$(cat "${name}_db_password")@${POSTGRES_HOST}:5432/${name}" | keep "${name}_database_url"
    # The deployment's own Redis (compose.yaml: redis-<name>): its password, and the URL that carries it.
    random | keep "${name}_redis_password"
    echo "requirepass $(cat "${name}_redis_password")" | keep "${name}_redis.conf"
    echo "redis://:$(cat "${name}_redis_password")@redis-$(echo "$name" | tr _ -):6379/0" | keep "${name}_cache_url"
done
for name in stelsel $OINS; do
    [ -e "$name.jwk" ] || $BLAUWEKNOP keys generate --out "$name.jwk"
done
# The operator's public keys: the trust anchor every other deployment is given.
{ echo '{"keys": ['; $BLAUWEKNOP keys public stelsel.jwk; echo ']}'; } | keep scheme_jwks.json
# What the operator admits (manage.py admit_participant): each participant's address, roles and public keys.
# participant FILE OIN NAME SLUG BASE_URL ROLES DOCUMENT_TYPES DESCRIPTION_NL DESCRIPTION_EN
participant() {
    [ -e "../participants/$1" ] && return
    {
        printf '{"oin": "%s", "name": "%s", "slug": "%s", "base_url": "%s",\n' "$2" "$3" "$4" "$5"
        printf ' "roles": %s, "document_types": %s,\n' "$6" "$7"
        printf ' "description": {"nl": "%s", "en": "%s"},\n "jwks": {"keys": [\n' "$8" "$9"
        $BLAUWEKNOP keys public "$2.jwk"
        printf ']}}\n'
    } >"../participants/$1"
    echo "made deploy/participants/$1"
}
mkdir -p ../participants
participant holder-a.json 00000001823288444000 "Gemeente Voorbeeldstad" gemeente-voorbeeldstad http://holder-a.test:8000 \
    '["holder"]' '["persoonsgegevens", "vorderingen"]' \
    "De gemeente waar u woont." "The municipality where you live."
participant holder-b.json 00000001003214345000 "Belastingkantoor Voorbeeldland" belastingkantoor http://holder-b.test:8000 \
    '["holder"]' '["inkomen", "vorderingen"]' \
    "Stelt uw inkomen vast en int de rijksbelastingen." "Sets your income and collects national taxes."
participant portal.json 00000001234567890000 "Blauwe Knop portaal (voorbeeld)" portaal http://localhost:8000 \
    '["app_manager"]' '[]' \
    "Het portaal waar u uw gegevens ziet." "The portal where you see your data."

# Compose mounts each file into only the containers that list it, keeping the host's file mode;
# the containers run as uid 10001, so the files are readable inside, and the folder (0700) keeps
# them from other users of this machine.
chmod 644 ./* ../participants/*
