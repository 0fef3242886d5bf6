-- Every WIT type kind in SQL: records and tuples as composite types, enums as enum types,
-- flags as text[], variants and nested results as jsonb, lists of records as arrays and sets.
\set shapes `base64 -w0 "$PG_COMPONENT_WASM_DIR/shapes.wasm"`
\set shapes2 `base64 -w0 "$PG_COMPONENT_WASM_DIR/shapes-v2.wasm"`
SELECT function FROM wasm.install('shapes', decode(:'shapes', 'base64')) ORDER BY 1;
-- explain(q): like outcome(q), with the error's detail.
CREATE FUNCTION public.explain(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || E'\n' || d;
END $$;

-- The generated types: WIT names in snake_case; tuples named after where they first appear.
SELECT t.typname, t.typtype, obj_description(t.oid, 'pg_type') AS comment
FROM pg_type t WHERE t.typnamespace = 'shapes'::regnamespace AND t.typtype IN ('c', 'e')
ORDER BY 1;
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a WHERE a.attrelid = 'shapes.line_item'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT enum_range(NULL::shapes.color);

-- record: composite in, composite out; fields by name.
SELECT shapes.echo_point(ROW(1.5, -2)), (shapes.echo_point(ROW(1.5, -2))).y;
SELECT (shapes.echo_point((0.25, 4)::shapes.point)).*;
-- nested record with every kind of field.
SELECT shapes.echo_item(ROW('sku1', 250, NULL, ARRAY['a', 'b'], ROW(1, 2), 'dark-blue',
    ARRAY['write', 'read'], '{"circle": 2.5}', ROW(7, 'seven'))::shapes.line_item);
SELECT (i).sku, (i).qty, (i).at.x, (i).color, (i).perms, (i).shape, (i).pair.f1
FROM (SELECT shapes.echo_item(ROW('sku2', 1, 3, '{}', ROW(0, 0), 'red', '{}', '"empty"', ROW(0, ''))
      ::shapes.line_item) AS i) s;
-- enum: labels are the WIT case names.
SELECT shapes.echo_color('dark-blue'), shapes.next_color('dark-blue'), shapes.next_color('red');
-- flags: text[] of the set flags, returned in declaration order, duplicates folded.
SELECT shapes.echo_perms(ARRAY['exec', 'read', 'read']), shapes.echo_perms('{}');
-- variant: jsonb {"case": payload}; a case without payload is {"case": null} (or "case" on input).
SELECT shapes.echo_shape('{"rect": {"x": 2, "y": 3}}'), shapes.echo_shape('"empty"'),
       shapes.area('{"circle": 1}'), shapes.area('{"rect": {"x": 2, "y": 3}}');
-- tuple: composite (f0, f1).
SELECT shapes.echo_pair(ROW(1, 'a')), (shapes.echo_pair(ROW(2, 'b'))).f0;
-- option<record>: NULL is none.
SELECT shapes.maybe_point(NULL) IS NULL AS none, shapes.maybe_point(ROW(1, 2));
-- list<record> in, list<record> out: an array of composites in, a set of rows out.
SELECT * FROM shapes.scale(ARRAY[ROW(1, 2), ROW(3, 4)]::shapes.point[], 10);
SELECT shapes.colors(), 'red' = ANY (shapes.colors()) AS has_red;
SELECT shapes.items_of(ARRAY[
    ROW('a', 5, 2, '{}', ROW(0, 0), 'red', '{}', '"empty"', ROW(0, ''))::shapes.line_item,
    ROW('b', 7, NULL, '{}', ROW(0, 0), 'red', '{}', '"empty"', ROW(0, ''))::shapes.line_item]);
-- result<list<record>, record>: rows, or an ERROR rendering the error record.
SELECT * FROM shapes.parse_customers(E'1, Ann ,ANN@X.COM\n2,Bob\n\n3,Cy,');
SELECT r.id, c.* FROM (VALUES (1, E'1,a'), (2, E'2,b\n3,c')) r(id, body),
    LATERAL shapes.parse_customers(r.body) c ORDER BY r.id, c.id;
SELECT outcome($$SELECT * FROM shapes.parse_customers(E'1,a\nx,b')$$);
\set VERBOSITY default
SELECT * FROM shapes.parse_customers(E'1,a\nx,b');
-- list<list<T>> as jsonb (arrays are rectangular, lists of lists need not be); option<result<...>> as nullable jsonb.
SELECT shapes.grid(3);
SELECT shapes.checked_half(4), shapes.checked_half(3), shapes.checked_half(0) IS NULL AS none;

-- Types defined in an exported interface keep their WIT names; list<tuple<string, record>>
-- is a set of composites whose second attribute is a composite.
SELECT shapes.nearest(ARRAY[ROW(1, 2), ROW(5, 5), ROW(9, 9)]::shapes.spot[], ROW(4, 4)),
       shapes.nearest('{}', ROW(0, 0)) IS NULL AS none_for_empty;
SELECT f0 AS label, (f1).lat, (f1).lon FROM shapes.labelled(ARRAY[ROW(1, 2), ROW(3, 4)]::shapes.spot[]);

-- Bad values: the right SQLSTATE naming the field; the next call works.
SELECT outcome($$SELECT shapes.echo_point(ROW(NULL, 1))$$);
SELECT outcome($$SELECT shapes.echo_item(ROW('s', -1, NULL, '{}', ROW(1, 2), 'red', '{}', '"empty"', ROW(1, 'x'))::shapes.line_item)$$);
SELECT outcome($$SELECT shapes.echo_item(ROW('s', 1, NULL, '{}', ROW(1, 2), 'red', '{bogus}', '"empty"', ROW(1, 'x'))::shapes.line_item)$$);
SELECT outcome($$SELECT shapes.echo_item(ROW('s', 1, NULL, ARRAY['a', NULL], ROW(1, 2), 'red', '{}', '"empty"', ROW(1, 'x'))::shapes.line_item)$$);
SELECT outcome($$SELECT shapes.echo_perms(ARRAY['read', NULL])$$);
SELECT outcome($$SELECT shapes.echo_shape('{"square": 1}')$$);
SELECT outcome($$SELECT shapes.echo_shape('{"circle": "big"}')$$);
SELECT outcome($$SELECT shapes.echo_color('blue')$$);
SELECT shapes.echo_point(ROW(1, 2));

-- Rows of the user's own tables: a hand-written function over the table's row type, matched
-- by column name in any order. Extra columns are not passed; a missing option field is none.
CREATE TABLE raw_customers(note text, email text, name text, id int8);
INSERT INTO raw_customers VALUES ('n1', ' A@B.C ', ' Ann ', 1), ('n2', NULL, 'Bob', 2);
CREATE FUNCTION public.norm(raw_customers) RETURNS shapes.customer LANGUAGE wasm AS 'shapes/normalize';
SELECT (public.norm(r)).* FROM raw_customers r ORDER BY 1;
-- As a result, a table row type gets NULL in columns no field names.
CREATE TABLE clean_customers(id int8, name text, email text, loaded_at timestamptz);
CREATE FUNCTION public.norm_row(raw_customers) RETURNS clean_customers LANGUAGE wasm AS 'shapes/normalize';
INSERT INTO clean_customers SELECT (public.norm_row(r)).* FROM raw_customers r;
SELECT * FROM clean_customers ORDER BY id;
CREATE TABLE no_email(id int8, name text);
CREATE FUNCTION public.norm_short(no_email) RETURNS shapes.customer LANGUAGE wasm AS 'shapes/normalize';
SELECT (public.norm_short(ROW(5, ' x ')::no_email)).*;
-- Mismatches are refused field by field.
CREATE TABLE no_name(id int8, email text);
SELECT explain($$CREATE FUNCTION public.bad1(no_name) RETURNS shapes.customer LANGUAGE wasm AS 'shapes/normalize'$$);
SELECT explain($$CREATE FUNCTION public.bad2(raw_customers) RETURNS no_email LANGUAGE wasm AS 'shapes/normalize'$$);
CREATE TABLE wrong_type(id text, name text);
SELECT explain($$CREATE FUNCTION public.bad3(wrong_type) RETURNS shapes.customer LANGUAGE wasm AS 'shapes/normalize'$$);
CREATE TYPE public.color3 AS ENUM ('red', 'green');
SELECT explain($$CREATE FUNCTION public.bad4(color3) RETURNS color3 LANGUAGE wasm AS 'shapes/echo-color'$$);
SELECT explain($$CREATE FUNCTION public.bad5(jsonb) RETURNS jsonb LANGUAGE wasm AS 'shapes/echo-point'$$);
-- RETURNS TABLE (…) and OUT parameters name the columns a record's fields go to, by name.
CREATE FUNCTION public.customers(body text) RETURNS TABLE (email text, id int8, name text)
    LANGUAGE wasm AS 'shapes/parse-customers';
SELECT * FROM public.customers(E'1, Ann ,A@B.C\n2,Bob');
CREATE FUNCTION public.norm_out(c shapes.customer, OUT id int8, OUT name text, OUT email text)
    LANGUAGE wasm AS 'shapes/normalize';
SELECT * FROM public.norm_out(ROW(7, ' Z ', ' Q@R '));
SELECT explain($$CREATE FUNCTION public.bad6(body text) RETURNS TABLE (id int8, nom text) LANGUAGE wasm AS 'shapes/parse-customers'$$);
DROP FUNCTION public.customers(text), public.norm_out(shapes.customer);
-- A list result may also be declared as an array instead of a set.
CREATE FUNCTION public.all_colors() RETURNS shapes.color[] LANGUAGE wasm AS 'shapes/colors';
SELECT public.all_colors();

-- JSON form: records as objects (snake_case keys), enums as strings, flags as arrays.
SELECT wasm_transform('shapes', 'echo-item', '[{"sku": "a", "unit_price": 1, "tags": [], "at": {"x": 1, "y": 2},
    "color": "red", "perms": ["read"], "shape": "empty", "pair": [1, "x"]}]');
SELECT wasm_transform('shapes', 'normalize', jsonb_build_array(to_jsonb(r))) FROM raw_customers r ORDER BY r.id;
SELECT outcome($$SELECT wasm_transform('shapes', 'echo-point', '[{"x": 1, "y": true}]')$$);
SELECT outcome($$SELECT wasm_transform('shapes', 'echo-color', '["blue"]')$$);
SELECT outcome($$SELECT wasm_transform('shapes', 'echo-perms', '[["read", "bogus"]]')$$);
SELECT outcome($$SELECT wasm_transform('shapes', 'echo-shape', '[{"empty": 1}]')$$);
SELECT wasm_transform('shapes', 'echo-perms', '[["exec", "read"]]');

-- Replacing with changed types: refused while user objects depend on them, nothing changed.
CREATE TABLE places(id int, p shapes.point);
CREATE VIEW pv AS SELECT (shapes.echo_point(ROW(1, 2))).x;
SELECT count(*) FROM wasm.install('shapes', decode(:'shapes2', 'base64'), replace => true);
SELECT shapes.echo_point(ROW(1, 2)), shapes.area('"empty"');
SELECT version, sha256 = encode(sha256(decode(:'shapes', 'base64')), 'hex') AS same_bytes,
       jsonb_array_length(generated_types) AS types
FROM wasm.plugins WHERE name = 'shapes';
DROP VIEW pv;
DROP TABLE places;
DROP FUNCTION public.norm, public.norm_row, public.norm_short, public.all_colors;
-- Without them, the types and functions change in one go; unchanged types stay.
CREATE TABLE user_colors(c shapes.color);
SELECT function FROM wasm.install('shapes', decode(:'shapes2', 'base64'), replace => true) ORDER BY 1;
SELECT shapes.echo_point(ROW(1, 2, 3)), shapes.next_color('red');
SELECT t.typname FROM pg_type t WHERE t.typnamespace = 'shapes'::regnamespace AND t.typtype IN ('c', 'e') ORDER BY 1;
-- Uninstall refuses too while a column uses a generated type.
SELECT outcome($$SELECT wasm.uninstall('shapes')$$);
DROP TABLE user_colors;
SELECT wasm.uninstall('shapes');
SELECT count(*) FROM pg_namespace WHERE nspname = 'shapes';

-- A type of the same name that is not the plugin's is never taken over.
CREATE SCHEMA taken;
CREATE TYPE taken.point AS (a int);
SELECT outcome($$SELECT count(*) FROM wasm.install('shapes', decode('$$ || :'shapes' || $$', 'base64'), schema => 'taken')$$);
SELECT count(*) FROM pg_type WHERE typnamespace = 'taken'::regnamespace AND typtype IN ('c', 'e');
DROP SCHEMA taken CASCADE;

-- Bindings follow changes to the types they convert through: attributes added or dropped,
-- enum labels added.
SELECT count(*) FROM wasm.install('altered', decode(:'shapes', 'base64'));
SELECT altered.echo_point(ROW(1, 2)), altered.echo_color('red');
ALTER TYPE altered.point ADD ATTRIBUTE z int;
SELECT altered.echo_point(ROW(1, 2, 3));
ALTER TYPE altered.point DROP ATTRIBUTE y;
SELECT explain($$SELECT altered.echo_point(ROW(1, 3))$$);
ALTER TYPE altered.color ADD VALUE 'blue';
SELECT explain($$SELECT altered.echo_color('red')$$);
SELECT wasm.uninstall('altered');
DROP TABLE raw_customers, clean_customers, no_email, no_name, wrong_type;
DROP TYPE public.color3;
DROP FUNCTION public.explain(text);
