-- proxyra: PostgreSQL setup
--
-- The pool's physical connections log in once as app_proxy; for each request proxyra runs
-- SET ROLE "<caller>" so that grants, row-level security and current_user see the real caller.
--
-- Run as a superuser or a role with CREATEROLE in the application's database, e.g.
--   psql -v ON_ERROR_STOP=1 -d erp -f sql/postgresql-setup.sql
-- then give the proxy account a password (psql: \password app_proxy) and hand it to proxyra
-- through MicroProfile Config (environment variable PROXYRA_PASSWORD), not a pool property.
--
-- The integration tests and the demo run exactly this file against an embedded PostgreSQL 17.
-- Works on PostgreSQL 13 and later (gen_random_uuid() is built in from 13).

-- 1. The proxy (login) role. NOINHERIT: it holds no privilege of its own and does not inherit
--    the callers' privileges either; it can only *become* a caller with SET ROLE.
--    SQL a caller runs can act as this role within its own lending, so proxyra refuses to serve
--    through it (before the first caller) if it, or a role it can SET ROLE to, is a superuser or has
--    CREATEROLE, BYPASSRLS or REPLICATION or a predefined pg_* role; or if it owns objects, may
--    create them, or has ALTER ROLE ... SET defaults (put session settings in the URL instead:
--    options=-c name=value). In pg_hba.conf let it log in only from the application hosts, by
--    certificate (hostssl erp app_proxy 10.0.1.0/24 cert), so that a password changed by a
--    caller's SQL opens nothing.
CREATE ROLE app_proxy LOGIN NOINHERIT;

--    PostgreSQL 14 and older let every role create objects in schema public: not the proxy role.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- 2. One NOLOGIN role per application user, named as proxyra maps the caller
--    (PrincipalCase defaults to AS_IS on PostgreSQL: caller alice -> SET ROLE "alice").
CREATE ROLE alice NOLOGIN;
CREATE ROLE bob NOLOGIN;

-- 3. Let the proxy act as them. Membership is what allows SET ROLE; with app_proxy NOINHERIT the
--    membership grants no privileges until the role is set. (PostgreSQL 16+: this is the same as
--    GRANT alice TO app_proxy WITH INHERIT FALSE, SET TRUE.)
GRANT alice TO app_proxy;
GRANT bob TO app_proxy;

-- 4. Application data under row-level security: every caller sees and writes only its own rows.
--    The table's owner (whoever runs this script) bypasses RLS: never let the pool log in as it.
CREATE TABLE orders (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner      text        NOT NULL DEFAULT current_user,
    item       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_owner ON orders
    USING (owner = current_user)
    WITH CHECK (owner = current_user);

-- 5. Privileges go to the callers' roles, never to app_proxy.
GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO alice, bob;

-- A new application user later:
--   CREATE ROLE carol NOLOGIN;
--   GRANT carol TO app_proxy;
--   GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO carol;

-- Optional: RoleSwitch=SET_USER (see docs/security.md, "Switch modes on PostgreSQL"). The set_user
-- extension (Debian: apt-get install postgresql-15-set-user) then blocks SET ROLE, RESET ROLE,
-- SET SESSION AUTHORIZATION and set_config() in the caller's session; it does not block DISCARD ALL,
-- and set_user 4.0.1 crashes the server process on RESET ALL while switched. Needs, in postgresql.conf:
--   shared_preload_libraries = 'set_user'
-- and a restart; then, as a superuser, in this database:
--   CREATE EXTENSION set_user;
--   GRANT EXECUTE ON FUNCTION set_user(text, text), reset_user(text) TO app_proxy;
-- Never grant set_user to a caller role. set_user checks no membership itself: limit whom the proxy
-- account may become, e.g. put the callers in a group role and set in postgresql.conf
--   set_user.nosuperuser_target_allowlist = '+callers'
-- (CREATE ROLE callers NOLOGIN; GRANT callers TO alice, bob;).
