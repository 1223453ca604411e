#!/bin/sh
# The intake spool's own role and database on the PostgreSQL service (docker-compose.yml runs this
# once per `up`; idempotent). The receiver then holds only this role's password, never Temporal's,
# and creates its table itself (src/spool/store.ts). Needs PGHOST, PGUSER, PGPASSWORD (an admin)
# and SPOOL_POSTGRES_PASSWORD.
set -eu
: "${SPOOL_POSTGRES_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 -v pw="$SPOOL_POSTGRES_PASSWORD" -d postgres <<'SQL'
SELECT 'CREATE ROLE begini_spool LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'begini_spool')\gexec
ALTER ROLE begini_spool PASSWORD :'pw';
SELECT 'CREATE DATABASE begini_spool OWNER begini_spool'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'begini_spool')\gexec
SQL
