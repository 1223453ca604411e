#!/usr/bin/env sh
# Creates and migrates the `temporal` and `temporal_visibility` databases on PostgreSQL with
# temporal-sql-tool: run once per deployment, and again on every upgrade (it only applies the schema
# versions a database lacks, so it is safe on an existing volume). The compose file runs it in the
# temporalio/admin-tools image; the local cluster (npm run test:cluster) runs it with the binaries
# scripts/ensure-temporal-server builds.
# Needs: POSTGRES_SEEDS, POSTGRES_USER; optional DB_PORT (5432), POSTGRES_PWD, DBNAME (temporal),
# VISIBILITY_DBNAME (temporal_visibility), SCHEMA_DIR (/etc/temporal/schema), TEMPORAL_SQL_TOOL.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}"
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
schema_dir="${SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12"
export SQL_PASSWORD="${POSTGRES_PWD:-}"

sql() { # database, command...
  db="$1"
  shift
  "$tool" --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$db" "$@"
}
migrate() { # database, schema folder
  # `create` fails when the database exists, the normal case on a second run.
  sql "$1" create 2>/dev/null || echo "setup-schema: database $1 exists"
  # Version 0.0 marks an empty database as versioned (a no-op once it is further along); then
  # update-schema applies the versions it lacks.
  sql "$1" setup-schema -v 0.0
  sql "$1" update-schema -d "$schema_dir/$2/versioned"
}
migrate "${DBNAME:-temporal}" temporal
migrate "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
echo "setup-schema: ${DBNAME:-temporal} and ${VISIBILITY_DBNAME:-temporal_visibility} are up to date"
