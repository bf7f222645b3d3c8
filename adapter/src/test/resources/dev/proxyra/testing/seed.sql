-- The proxy set-up proxyra expects on PostgreSQL (see sql/postgresql-setup.sql for production).
-- app_proxy logs in; NOINHERIT so it has none of the callers' privileges until it SETs ROLE.
CREATE ROLE app_proxy LOGIN NOINHERIT PASSWORD '${PROXY_PASSWORD}';
-- Callers are NOLOGIN roles; "callers" carries the table grants they share.
CREATE ROLE callers NOLOGIN;
CREATE ROLE alice NOLOGIN IN ROLE callers;
CREATE ROLE bob NOLOGIN IN ROLE callers;
GRANT alice, bob TO app_proxy;
-- A second proxy account (a pool whose credential comes from the server's Subject may log in as either).
CREATE ROLE app_proxy2 LOGIN NOINHERIT PASSWORD '${PROXY_PASSWORD}';
GRANT alice TO app_proxy2;
-- Names that need quoting; each is a real role the proxy may act as.
CREATE ROLE "o'brien ""x""" NOLOGIN IN ROLE callers;
CREATE ROLE "with space" NOLOGIN IN ROLE callers;
CREATE ROLE "Zoë Ünïcødé" NOLOGIN IN ROLE callers;
GRANT "o'brien ""x""", "with space", "Zoë Ünïcødé" TO app_proxy;
-- A role that exists but the proxy may not act as.
CREATE ROLE mallory NOLOGIN IN ROLE callers;

CREATE TABLE notes (
    id    serial PRIMARY KEY,
    owner name NOT NULL DEFAULT current_user,
    body  text NOT NULL
);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON notes USING (owner = current_user) WITH CHECK (owner = current_user);
GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO callers;
GRANT USAGE ON SEQUENCE notes_id_seq TO callers;
INSERT INTO notes (owner, body) VALUES
    ('alice', 'alice: quarterly figures'),
    ('alice', 'alice: travel plan'),
    ('bob', 'bob: shopping list');

-- Target of the injection attempts: must survive every test.
CREATE TABLE x (id int);
GRANT SELECT ON x TO callers;
