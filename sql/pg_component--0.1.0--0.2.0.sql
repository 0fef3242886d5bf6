-- pg_component 0.1.0 -> 0.2.0: ALTER EXTENSION pg_component UPDATE TO '0.2.0'
--
-- 0.2.0 changes no SQL object: calls take no transaction ID (so plugins run on hot standbys and
-- in parallel workers), install/uninstall refuse with 25006 where nothing may be written, and
-- the compiled-code cache moved to $PGDATA/pgsql_tmp_pg_component/<database oid>/, which base
-- backups skip; the old $PGDATA/pg_component_cache/ is removed on first use. Every C symbol the
-- 0.1.0 SQL names still exists in the 0.2.0 library.
\echo Use "ALTER EXTENSION pg_component UPDATE" to load this file. \quit
