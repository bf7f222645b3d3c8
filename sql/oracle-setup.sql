-- proxyra: Oracle Database setup (proxy authentication)
--
-- The pool's physical connections log in once as PROXY_USER; for each caller proxyra opens a
-- lightweight proxy session (OracleConnection.openProxySession, PROXYTYPE_USER_NAME), so
-- SESSION_USER, grants, auditing and VPD see the real user while PROXY_USER records the pool.
--
-- Run as a DBA (SQL*Plus or SQLcl; &proxy_password is prompted for, so no password is stored here):
--   sql admin@//dbhost:1521/FREEPDB1 @sql/oracle-setup.sql
-- Requires Oracle Database 18c or later for NO AUTHENTICATION (schema-only) accounts; on older
-- releases give those users a long random password instead and never hand it out.
--
-- NOTE: no Oracle Database runs in this project's automatic tests (none can be installed on its
-- build machines); this file follows Oracle's documented syntax and was reviewed, not executed.

-- 1. The proxy account the pool logs in as: it may create sessions and nothing else.
--    proxyra: User=PROXY_USER, Password from MicroProfile Config (PROXYRA_PASSWORD).
CREATE USER proxy_user IDENTIFIED BY "&proxy_password";
GRANT CREATE SESSION TO proxy_user;

-- 2. The application users, named as proxyra maps the caller (PrincipalCase defaults to UPPER on
--    Oracle: caller alice -> ALICE). Schema-only accounts: nobody can log in as them directly,
--    only through the proxy.
CREATE USER alice NO AUTHENTICATION;
CREATE USER bob NO AUTHENTICATION;
GRANT CREATE SESSION TO alice, bob;

-- 3. Allow the proxy to connect as each of them. WITH ROLE limits what the proxy session may
--    enable (proxyra's PROXY_ROLES); without it the user's default roles apply.
CREATE ROLE erp_user;
GRANT erp_user TO alice, bob;
ALTER USER alice GRANT CONNECT THROUGH proxy_user WITH ROLE erp_user;
ALTER USER bob GRANT CONNECT THROUGH proxy_user WITH ROLE erp_user;

-- A user the proxy may NOT act as: proxyra must refuse it with SQLState 28000 (ORA-28150).
-- Only needed for the opt-in live test suite (./mvnw -Poracle ...); leave it out in production.
CREATE USER mallory NO AUTHENTICATION;
GRANT CREATE SESSION TO mallory;

-- 4. Application data owned by a schema-only account, privileges through the role only.
CREATE USER erp NO AUTHENTICATION QUOTA 100M ON users;
CREATE TABLE erp.orders (
    id         RAW(16)        DEFAULT SYS_GUID() PRIMARY KEY,
    owner      VARCHAR2(128)  DEFAULT SYS_CONTEXT('USERENV', 'SESSION_USER') NOT NULL,
    item       VARCHAR2(4000) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT SYSTIMESTAMP NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON erp.orders TO erp_user;

-- 5. Optional: Virtual Private Database, the Oracle counterpart of PostgreSQL row-level security.
--    In a proxy session SESSION_USER is the caller, so each caller sees only its own rows.
CREATE OR REPLACE FUNCTION erp.orders_owner_policy(p_schema IN VARCHAR2, p_object IN VARCHAR2)
    RETURN VARCHAR2
AS
BEGIN
    RETURN 'owner = SYS_CONTEXT(''USERENV'', ''SESSION_USER'')';
END;
/
BEGIN
    DBMS_RLS.ADD_POLICY(
        object_schema   => 'ERP',
        object_name     => 'ORDERS',
        policy_name     => 'ORDERS_OWNER',
        function_schema => 'ERP',
        policy_function => 'ORDERS_OWNER_POLICY',
        statement_types => 'SELECT, INSERT, UPDATE, DELETE',
        update_check    => TRUE);
END;
/

-- 6. Optional: audit what callers do through the proxy (unified auditing records both the
--    client user and the proxy user).
CREATE AUDIT POLICY erp_orders_dml ACTIONS INSERT ON erp.orders, UPDATE ON erp.orders, DELETE ON erp.orders;
AUDIT POLICY erp_orders_dml BY USERS WITH GRANTED ROLES erp_user;

-- 7. Only for proxyra's live test suite (OracleLiveTest): let callers read their own session
--    statistics and sessions (round trips per borrow, sessions per physical connection).
GRANT SELECT ON sys.v_$mystat TO erp_user;
GRANT SELECT ON sys.v_$statname TO erp_user;
GRANT SELECT ON sys.v_$session TO erp_user;

-- Check (as a DBA): which users the proxy may act as
--   SELECT proxy, client, authentication, flags FROM proxy_users WHERE proxy = 'PROXY_USER';
-- Inside a proxyra connection:
--   SELECT SYS_CONTEXT('USERENV', 'SESSION_USER'), SYS_CONTEXT('USERENV', 'PROXY_USER') FROM dual;
--   -- ALICE, PROXY_USER
-- Take a user away: ALTER USER alice REVOKE CONNECT THROUGH proxy_user;
