#!/bin/sh
# PostgreSQL's first start (docker-entrypoint-initdb.d; it runs only while the data volume is new):
# one database per deployment, owned by a login role of the same name with its own password, and
# closed to every other role. APP_DATABASES lists the names; each password is read from
# $SECRETS_DIR/<name>_db_password (default /run/secrets; deploy/make-secrets.sh writes them).
set -eu
SECRETS_DIR=${SECRETS_DIR:-/run/secrets}
for name in $APP_DATABASES; do
    password=$(cat "$SECRETS_DIR/${name}_db_password")
    # psql variables quote the name (:"name") and the password (:'password') safely.
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
