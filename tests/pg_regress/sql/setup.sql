-- Run once when the regression database is created.
CREATE EXTENSION pg_component;
-- outcome(q): run q in a subtransaction and show 'ok' or 'SQLSTATE: message'.
CREATE FUNCTION public.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN query_canceled OR others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
