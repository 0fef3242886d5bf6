-- Hand-written LANGUAGE wasm functions and the validator.
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));

CREATE FUNCTION public.loud(text) RETURNS text LANGUAGE wasm AS 'scalars/shout';
CREATE FUNCTION public.words(text) RETURNS bigint LANGUAGE wasm STRICT AS 'scalars/word_count';
SELECT public.loud('hand written'), public.words('a b c d');

-- Signatures that do not fit the export, with both types named.
CREATE FUNCTION public.bad(integer) RETURNS text LANGUAGE wasm AS 'scalars/shout';
CREATE FUNCTION public.bad(text) RETURNS integer LANGUAGE wasm AS 'scalars/shout';
CREATE FUNCTION public.bad(text, text) RETURNS text LANGUAGE wasm AS 'scalars/shout';
CREATE FUNCTION public.bad(text) RETURNS SETOF text LANGUAGE wasm AS 'scalars/shout';
CREATE FUNCTION public.bad(text) RETURNS text LANGUAGE wasm AS 'no slash';
CREATE FUNCTION public.bad(text) RETURNS text LANGUAGE wasm AS 'scalars/missing';
CREATE FUNCTION public.bad(text) RETURNS text LANGUAGE wasm AS 'nobody/shout';

-- pg_restore runs with check_function_bodies = off: accepted now, checked at call time.
SET check_function_bodies = off;
CREATE FUNCTION public.unchecked(integer) RETURNS text LANGUAGE wasm AS 'scalars/shout';
RESET check_function_bodies;
SELECT public.unchecked(1);

-- Bound functions of an uninstalled plugin fail cleanly; reinstalling revives them.
SELECT wasm.uninstall('scalars');
SELECT public.loud('gone');
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));
SELECT public.loud('back');

DROP FUNCTION public.loud(text), public.words(text), public.unchecked(integer);
SELECT wasm.uninstall('scalars');
