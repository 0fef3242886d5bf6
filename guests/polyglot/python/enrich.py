"""Example plugin in Python: reference-data lookups through pg-component's query interface
(world example:enrich@0.1.0), the same plugin as the Rust one in guests/examples/enrich, with
the same results. Built into enrich-py.wasm by ./build.sh (componentize-py)."""

import wit_world
from componentize_py_types import Err
from wit_world.imports import query, types

# Prepared on the first row, kept for the instance's life (one transaction).
_by_code = None


def render_value(v) -> str:
    if isinstance(v, types.Value_Null):
        return "null"
    if isinstance(v, types.Value_Boolean):
        return f"boolean({'true' if v.value else 'false'})"
    if isinstance(v, types.Value_Int):
        return f"int({v.value})"
    if isinstance(v, types.Value_Float):
        f = v.value
        return f"float({int(f) if f == int(f) else f})"
    if isinstance(v, types.Value_Bytes):
        return f"bytes({bytes(v.value).hex()})"
    name = {types.Value_Numeric: "numeric", types.Value_Text: "text", types.Value_Json: "json"}[type(v)]
    return f"{name}({v.value})"


def render(run) -> str:
    try:
        rows = run()
    except Err as e:
        return f"ERROR {e.value.sqlstate}: {e.value.message}"
    return ";".join(",".join(render_value(v) for v in row) for row in rows)


def probe_value(p: str):
    """A probe's parameter, as in the Rust example."""
    if p.startswith("int:") and p[4:].lstrip("-").isdigit():
        return types.Value_Int(int(p[4:]))
    if p == "nul":
        return types.Value_Text("a\0b")
    return types.Value_Null() if p == "null" else types.Value_Text(p)


class WitWorld(wit_world.WitWorld):
    def country_name(self, code: str):
        global _by_code
        try:
            if _by_code is None:
                _by_code = query.prepare("SELECT name FROM public.countries WHERE code = $1", ["text"])
            row = _by_code.query_row([types.Value_Text(code)])
        except Err:
            return None
        if row and isinstance(row[0], types.Value_Text):
            return row[0].value
        return None

    def probe(self, queries):
        return [render(lambda sql=sql: query.query(sql, [])) for sql in queries]

    def probe_params(self, sql: str) -> str:
        params = [
            types.Value_Int(7),
            types.Value_Float(1.5),
            types.Value_Numeric("2.25"),
            types.Value_Text("t"),
            types.Value_Bytes(b"\x01\x02"),
            types.Value_Json('{"a": 1}'),
            types.Value_Boolean(True),
            types.Value_Null(),
        ]
        return render(lambda: query.query(sql, params))

    def probe_typed(self, sql: str, param_types, params) -> str:
        return render(lambda: query.prepare(sql, param_types).query([probe_value(p) for p in params]))

    def probe_row(self, sql: str, params) -> str:
        try:
            row = query.prepare(sql, []).query_row([probe_value(p) for p in params])
        except Err as e:
            return f"ERROR {e.value.sqlstate}: {e.value.message}"
        return "none" if row is None else render(lambda: [row])

    def count_in_batches(self, sql: str, batch: int) -> str:
        try:
            rows = query.prepare(sql, []).open([])
            total = batches = 0
            while True:
                got = rows.fetch(batch)
                if not got:
                    break
                total += len(got)
                batches += 1
        except Err as e:
            return f"ERROR {e.value.sqlstate}: {e.value.message}"
        return f"{total} rows in {batches} batches"
