#!/bin/sh
# Applies the migrations of this directory with nothing but psql, recording
# them exactly as `spinstack migrate` does: the same `schema_migrations`
# table, the same SHA-256 checksums, the same advisory lock. Either tool may
# run against a database the other one migrated.
#
# Usage: apply.sh [DIR]     (DIR defaults to this script's directory)
# Connects with DATABASE_URL if it is set, else with psql's PG* variables.
set -eu

dir=${1:-$(cd "$(dirname "$0")" && pwd)}
# "SPINSTKM": keep in sync with LOCK_KEY in infra/host/src/migrate.rs.
lock_key=6003378904039181133

script=$(mktemp)
trap 'rm -f "$script"' EXIT

{
    echo "SET client_min_messages = warning;"
    echo "SELECT pg_advisory_lock($lock_key) AS locked \\gset"
    echo "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
    for name in $(ls -1 "$dir" | grep '\.sql$' | sort -n); do
        number=${name%%_*}
        case "$name" in
            [0-9]*_?*.sql) ;;
            *) echo "apply.sh: migration file $name has no number prefix (name it like 0001_description.sql)" >&2; exit 1 ;;
        esac
        case "$number" in
            *[!0-9]*) echo "apply.sh: migration file $name has no number prefix (name it like 0001_description.sql)" >&2; exit 1 ;;
        esac
        version=$(echo "$number" | sed 's/^0*//')
        version=${version:-0}
        sum=$(sha256sum "$dir/$name" | cut -d' ' -f1)
        cat <<SQL
SELECT coalesce(bool_or(checksum <> '$sum'), false) AS changed, count(*) > 0 AS applied FROM schema_migrations WHERE version = $version \\gset
\\if :changed
DO \$\$ BEGIN RAISE EXCEPTION 'migration % was changed after it was applied: applied migrations must not be edited, add a new one instead', '$name'; END \$\$;
\\elif :applied
\\else
BEGIN;
\\i '$dir/$name'
INSERT INTO schema_migrations (version, name, checksum) VALUES ($version, '$name', '$sum');
COMMIT;
\\echo 'Applied $name'
\\endif
SQL
    done
} >"$script"

if [ -n "${DATABASE_URL:-}" ]; then
    exec psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f "$script"
else
    exec psql -X -q -v ON_ERROR_STOP=1 -f "$script"
fi
