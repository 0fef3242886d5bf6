-- Trigger functions: RETURNS trigger LANGUAGE wasm AS 'plugin/export', row-level BEFORE and
-- AFTER, the export's parameters bound by name (new, old, op, table, args).
\set triggers `base64 -w0 "$PG_COMPONENT_WASM_DIR/triggers.wasm"`
\set customers `base64 -w0 "$PG_COMPONENT_WASM_DIR/customers.wasm"`
\set customers_py `base64 -w0 "$PG_COMPONENT_WASM_DIR/customers-py.wasm"`
SELECT count(*) > 0 AS installed FROM wasm.install('trig', decode(:'triggers', 'base64'));
CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE wasm AS 'trig/stamp';
CREATE FUNCTION public.check_item() RETURNS trigger LANGUAGE wasm AS 'trig/check';
CREATE FUNCTION public.observe() RETURNS trigger LANGUAGE wasm AS 'trig/observe';
CREATE FUNCTION public.tag() RETURNS trigger LANGUAGE wasm AS 'trig/tag';
SELECT function, kind FROM wasm.functions WHERE kind = 'trigger' ORDER BY function::text COLLATE "C";

-- The export's shape is checked when the function is created.
SELECT outcome($$CREATE FUNCTION public.t_bad() RETURNS trigger LANGUAGE wasm AS 'trig/not-a-trigger'$$);
SELECT outcome($$CREATE FUNCTION public.t_bad() RETURNS trigger LANGUAGE wasm AS 'trig/bad-result'$$);
SELECT outcome($$CREATE FUNCTION public.t_bad(int) RETURNS trigger LANGUAGE wasm AS 'trig/stamp'$$);
SELECT outcome($$CREATE FUNCTION public.t_bad() RETURNS trigger LANGUAGE wasm AS 'trig/nope'$$);
SELECT count(*) AS created FROM pg_proc WHERE proname = 't_bad';

-- A plain function in CREATE TRIGGER: Postgres' error. A trigger function called directly: ours.
CREATE TABLE items (id int PRIMARY KEY, label text, qty int, note text DEFAULT 'kept');
SELECT outcome($$CREATE TRIGGER t BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION trig.zero()$$);
SELECT outcome($$SELECT public.stamp()$$);
SELECT trig.zero() AS next_call_works;

-- BEFORE INSERT, UPDATE, DELETE: rows modified and skipped; columns no field names are kept.
-- AFTER sees the row as written. TG_ARGV reaches the export as args, the table as table.
CREATE TRIGGER a_stamp BEFORE INSERT OR UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION stamp('one', 'two');
CREATE TRIGGER z_observe AFTER INSERT OR UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION observe();
INSERT INTO items VALUES (1, 'apple', 3), (2, 'skip', 1), (3, 'pear', NULL);
SELECT * FROM items ORDER BY id;
UPDATE items SET label = 'red' WHERE id = 1;
UPDATE items SET label = 'skip', qty = 7 WHERE id = 3;
SELECT * FROM items ORDER BY id;
ALTER TABLE items DISABLE TRIGGER a_stamp;
INSERT INTO items VALUES (4, 'skip', 0);
ALTER TABLE items ENABLE TRIGGER a_stamp;
DELETE FROM items WHERE id IN (3, 4);
SELECT * FROM items ORDER BY id;
-- COPY passes through the trigger too.
COPY items (id, label, qty) FROM stdin;
5	plum	1
6	skip	2
\.
SELECT * FROM items ORDER BY id;

-- WHEN conditions, and an export with only some of the parameters.
CREATE TABLE tagged (id int, label text, qty int);
CREATE TRIGGER tag BEFORE INSERT OR UPDATE ON tagged
    FOR EACH ROW WHEN (NEW.id > 0) EXECUTE FUNCTION tag('x', 'y');
INSERT INTO tagged VALUES (1, 'a', 0), (-1, 'b', 0);
SELECT * FROM tagged ORDER BY id;

-- Privileges as Postgres has them: CREATE TRIGGER checked EXECUTE; firing needs only the
-- table privilege, not USAGE on the plugin's schema (which calling trig.tag directly needs).
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_trig_writer;
RESET client_min_messages;
CREATE ROLE regress_trig_writer;
GRANT INSERT ON tagged TO regress_trig_writer;
\c -
SET ROLE regress_trig_writer;
INSERT INTO tagged VALUES (2, 'c', 0);
SELECT outcome($$SELECT trig.zero()$$);
RESET ROLE;
SELECT * FROM tagged ORDER BY id;

-- The binding follows the table: re-checked after ALTER TABLE, naming table, column and field.
ALTER TABLE tagged ADD COLUMN extra text DEFAULT 'e';
INSERT INTO tagged (id, label, qty) VALUES (3, 'd', 0);
ALTER TABLE tagged ALTER COLUMN qty TYPE text;
SELECT outcome($$INSERT INTO tagged (id, label, qty) VALUES (4, 'e', '0')$$);
ALTER TABLE tagged ALTER COLUMN qty TYPE int USING qty::int;
INSERT INTO tagged (id, label, qty) VALUES (5, 'f', 0);
SELECT * FROM tagged ORDER BY id;

-- Records that do not fit the table: clear errors before any row is written.
CREATE FUNCTION public.wrong_type() RETURNS trigger LANGUAGE wasm AS 'trig/wrong-type';
CREATE FUNCTION public.no_column() RETURNS trigger LANGUAGE wasm AS 'trig/no-column';
CREATE TABLE fits (id int, label text, qty int);
CREATE TRIGGER w BEFORE INSERT ON fits FOR EACH ROW EXECUTE FUNCTION wrong_type();
SELECT outcome($$INSERT INTO fits VALUES (1, 'a', 1)$$);
DROP TRIGGER w ON fits;
CREATE TRIGGER n BEFORE INSERT ON fits FOR EACH ROW EXECUTE FUNCTION no_column();
SELECT outcome($$INSERT INTO fits VALUES (1, 'a', 1)$$);
DROP TRIGGER n ON fits;
-- A parameter that is not an option, for an operation without that row.
CREATE TRIGGER c BEFORE INSERT OR DELETE ON fits FOR EACH ROW EXECUTE FUNCTION check_item();
INSERT INTO fits VALUES (1, 'a', 1);
SELECT outcome($$DELETE FROM fits$$);
SELECT * FROM fits;
DROP TRIGGER c ON fits;

-- A guest err or a trap rolls the statement back with nothing written, in BEFORE and in
-- AFTER triggers; the next statement works.
CREATE TABLE checked (id int, label text, qty int);
CREATE TRIGGER c BEFORE INSERT ON checked FOR EACH ROW EXECUTE FUNCTION check_item();
SELECT outcome($$INSERT INTO checked VALUES (1, 'a', 1), (2, 'b', -5)$$);
SELECT outcome($$INSERT INTO checked VALUES (1, 'a', 1), (2, 'b', 999)$$);
SELECT count(*) AS written FROM checked;
INSERT INTO checked VALUES (3, 'c', 1);
DROP TRIGGER c ON checked;
CREATE TRIGGER c AFTER INSERT ON checked FOR EACH ROW EXECUTE FUNCTION check_item();
SELECT outcome($$INSERT INTO checked VALUES (4, 'd', 1), (5, 'e', -1)$$);
SELECT outcome($$INSERT INTO checked VALUES (4, 'd', 1), (5, 'e', 999)$$);
SELECT * FROM checked ORDER BY id;

-- Statement-level and INSTEAD OF triggers are refused when they fire.
CREATE TRIGGER s AFTER INSERT ON checked FOR EACH STATEMENT EXECUTE FUNCTION observe();
SELECT outcome($$INSERT INTO checked VALUES (6, 'f', 1)$$);
DROP TRIGGER s ON checked;
CREATE VIEW items_view AS SELECT id, label, qty FROM items;
CREATE TRIGGER i INSTEAD OF INSERT ON items_view FOR EACH ROW EXECUTE FUNCTION stamp();
SELECT outcome($$INSERT INTO items_view VALUES (9, 'v', 1)$$);
SELECT count(*) AS written FROM checked WHERE id = 6;

-- The customers example, in Rust and in Python: the same table contents through COPY.
SELECT count(*) > 0 AS installed FROM wasm.install('customers', decode(:'customers', 'base64'), deterministic => true);
SELECT count(*) > 0 AS installed FROM wasm.install('customers_py', decode(:'customers_py', 'base64'));
CREATE FUNCTION public.customers_clean() RETURNS trigger LANGUAGE wasm AS 'customers/clean';
CREATE FUNCTION public.customers_clean_py() RETURNS trigger LANGUAGE wasm AS 'customers_py/clean';
CREATE FUNCTION public.customers_normalize() RETURNS trigger LANGUAGE wasm AS 'customers/normalize';
CREATE TABLE customers_rs (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL, country text, source text DEFAULT 'import');
CREATE TABLE customers_py (LIKE customers_rs INCLUDING ALL);
CREATE TRIGGER clean BEFORE INSERT OR UPDATE ON customers_rs FOR EACH ROW EXECUTE FUNCTION customers_clean();
CREATE TRIGGER clean BEFORE INSERT OR UPDATE ON customers_py FOR EACH ROW EXECUTE FUNCTION customers_clean_py();
COPY customers_rs (id, email, name, country) FROM stdin;
1	  Ada@Example.COM 	ada   LOVELACE	 gb
2	bad-email	X	\N
3	b@c.org	  	\N
4	grace@navy.mil	grace hopper	usa
5	alan@turing.org.uk	alan	
6	Émile@Exemple.FR	émile	fr
7	a b@c.de	x	\N
\.
COPY customers_py (id, email, name, country) FROM stdin;
1	  Ada@Example.COM 	ada   LOVELACE	 gb
2	bad-email	X	\N
3	b@c.org	  	\N
4	grace@navy.mil	grace hopper	usa
5	alan@turing.org.uk	alan	
6	Émile@Exemple.FR	émile	fr
7	a b@c.de	x	\N
\.
SELECT * FROM customers_rs ORDER BY id;
SELECT count(*) AS differ FROM ((TABLE customers_rs EXCEPT TABLE customers_py) UNION ALL (TABLE customers_py EXCEPT TABLE customers_rs)) d;
UPDATE customers_py SET name = '  ada  king ' WHERE id = 1;
SELECT name FROM customers_py WHERE id = 1;
-- normalize: an invalid row is an error that names it; nothing is written.
CREATE TABLE customers_strict (LIKE customers_rs INCLUDING ALL);
CREATE TRIGGER normalize BEFORE INSERT ON customers_strict FOR EACH ROW EXECUTE FUNCTION customers_normalize();
SELECT outcome($$INSERT INTO customers_strict (id, email, name) VALUES (10, 'x@y.z', 'ok'), (11, 'nope', 'bad')$$);
SELECT count(*) AS written FROM customers_strict;
INSERT INTO customers_strict (id, email, name, country) VALUES (12, ' X@Y.Z', 'ok  computer', 'se');
SELECT * FROM customers_strict;

-- Replacing the plugin under a trigger: the next statement uses the new version.
SELECT count(*) > 0 AS installed FROM wasm.install('swap', decode(:'customers', 'base64'));
CREATE FUNCTION public.swap_clean() RETURNS trigger LANGUAGE wasm AS 'swap/clean';
CREATE TABLE swapped (LIKE customers_rs INCLUDING ALL);
CREATE TRIGGER clean BEFORE INSERT ON swapped FOR EACH ROW EXECUTE FUNCTION swap_clean();
INSERT INTO swapped (id, email, name) VALUES (1, 'A@B.C', 'one');
SELECT count(*) > 0 AS replaced FROM wasm.install('swap', decode(:'triggers', 'base64'), replace => true);
SELECT outcome($$INSERT INTO swapped (id, email, name) VALUES (2, 'D@E.F', 'two')$$);
SELECT count(*) > 0 AS replaced FROM wasm.install('swap', decode(:'customers_py', 'base64'), replace => true);
INSERT INTO swapped (id, email, name) VALUES (3, 'G@H.I', 'three');
SELECT * FROM swapped ORDER BY id;

DROP TABLE items, tagged, fits, checked, customers_rs, customers_py, customers_strict, swapped CASCADE;
DROP FUNCTION public.stamp(), public.check_item(), public.observe(), public.tag(), public.wrong_type(),
    public.no_column(), public.customers_clean(), public.customers_clean_py(), public.customers_normalize(),
    public.swap_clean();
SELECT wasm.uninstall('trig'), wasm.uninstall('customers'), wasm.uninstall('customers_py'), wasm.uninstall('swap');
DROP ROLE regress_trig_writer;
