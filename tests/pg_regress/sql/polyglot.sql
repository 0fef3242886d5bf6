-- The same slugify plugin written in Rust, Python (componentize-py), JavaScript
-- (componentize-js) and C: each installs, and all give the same answers, for strings and for
-- records, options and errors (slug-post).
\set rust `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify.wasm"`
\set python `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify-py.wasm"`
\set js `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify-js.wasm"`
\set js_default `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify-js-default.wasm"`
\set c `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify-c.wasm"`
SELECT export FROM wasm.install('slug_rs', decode(:'rust', 'base64')) ORDER BY 1;
SELECT export FROM wasm.install('slug_py', decode(:'python', 'base64')) ORDER BY 1;
SELECT export FROM wasm.install('slug_js', decode(:'js', 'base64')) ORDER BY 1;

CREATE TABLE titles (id int, title text);
INSERT INTO titles VALUES
    (1, 'Hello, World!'), (2, 'Ça va? Déjà vu — 100% sûr'), (3, '  Many   spaces & symbols!!  '),
    (4, ''), (5, 'ΑΒΓ δέλτα Straße İstanbul'), (6, '日本語のタイトル 2024'),
    (7, 'ȺȾ İİ grows: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 Ǆ ǅ');
SELECT id, slug_rs.slugify(title) AS rust,
       slug_py.slugify(title) = slug_rs.slugify(title) AS python_same,
       slug_js.slugify(title) = slug_rs.slugify(title) AS js_same
FROM titles ORDER BY id;
SELECT id, n, slug_rs.slugify_max(title, n) AS rust,
       slug_py.slugify_max(title, n) = slug_rs.slugify_max(title, n) AS python_same,
       slug_js.slugify_max(title, n) = slug_rs.slugify_max(title, n) AS js_same
FROM titles, (VALUES (5), (9)) AS m(n) ORDER BY id, n;
SELECT wasm_transform('slug_py', 'slugify', '["From JSON"]'), wasm_transform('slug_js', 'slugify', '["From JSON"]');

-- slug-post: record post {title, max-len: option<u32>} in, result<record slugged, record
-- slug-error> out. Each plugin has its own composite types (slug_rs.post, slug_py.post, ...).
SELECT id, n, (slug_rs.slug_post(ROW(title, n))).*,
       slug_py.slug_post(ROW(title, n))::text = slug_rs.slug_post(ROW(title, n))::text AS python_same,
       slug_js.slug_post(ROW(title, n))::text = slug_rs.slug_post(ROW(title, n))::text AS js_same
FROM titles, (VALUES (NULL), (5), (9)) AS m(n) WHERE title <> '' ORDER BY id, n NULLS FIRST;
-- The error record becomes the ERROR's message and detail, the same from every language.
SELECT outcome($$SELECT slug_rs.slug_post(ROW('¿?', NULL))$$) AS rust;
SELECT outcome($$SELECT slug_py.slug_post(ROW('¿?', NULL))$$) AS python;
SELECT outcome($$SELECT slug_js.slug_post(ROW('¿?', 3))$$) AS js;
\set VERBOSITY default
SELECT slug_py.slug_post(ROW('!!!', 4));
SELECT slug_js.slug_post(ROW('!!!', 4));
-- A NULL title is not an option: 22004, and the next call works.
SELECT outcome($$SELECT slug_js.slug_post(ROW(NULL, 3))$$) AS js;
SELECT (slug_js.slug_post(ROW('After the error', NULL))).slug;
-- The JSON form too.
SELECT wasm_transform('slug_py', 'slug-post', '[{"title": "From JSON!", "max_len": 4}]'),
       wasm_transform('slug_js', 'slug-post', '[{"title": "From JSON!"}]');

-- C (clang + wasi-libc + wit-bindgen c): a component with no imports at all, with the same
-- Unicode tables (generated from Rust) as the Python and JavaScript builds.
SELECT export FROM wasm.install('slug_c', decode(:'c', 'base64'), deterministic => true) ORDER BY 1;
SELECT id, slug_c.slugify(title) = slug_rs.slugify(title) AS c_same,
       slug_c.slugify_max(title, 9) = slug_rs.slugify_max(title, 9) AS c_max_same
FROM titles ORDER BY id;
SELECT id, n, slug_c.slug_post(ROW(title, n))::text = slug_rs.slug_post(ROW(title, n))::text AS c_same
FROM titles, (VALUES (NULL), (5), (9)) AS m(n) WHERE title <> '' ORDER BY id, n NULLS FIRST;
SELECT outcome($$SELECT slug_c.slug_post(ROW('!?', NULL))$$) AS c;
SELECT slug_c.slug_post(ROW('Cut me short', 0)), slug_c.slug_post(ROW('Cut me short', 6));
SELECT slug_c.slugify(repeat('Ⱥ ', 1000)) = slug_rs.slugify(repeat('Ⱥ ', 1000)) AS c_long_same;
SELECT wasm.uninstall('slug_c');

-- componentize-js' default build imports wasi:http (which denies every request): it installs
-- and gives the same answers.
SELECT count(*) FROM wasm.install('slug_js_default', decode(:'js_default', 'base64'));
SELECT title, slug_js_default.slugify(title) = slug_rs.slugify(title) AS js_default_same FROM titles ORDER BY id;
SELECT wasm.uninstall('slug_js_default');

DROP TABLE titles;
SELECT wasm.uninstall('slug_rs');
SELECT wasm.uninstall('slug_py');
SELECT wasm.uninstall('slug_js');
