package dev.proxyra.dialect;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the PostgreSQL proxy role may be. SQL a caller runs inside its own lending can act as the proxy role
 * ({@code SET ROLE NONE}, {@code RESET ROLE}, hidden in a DO block or a function): whatever the proxy role can do,
 * every caller can do. So before a pool serves anyone, the proxy role must reach nothing beyond the callers' roles:
 * no superuser, CREATEROLE, BYPASSRLS or REPLICATION, on itself or on any role it can SET ROLE to; no predefined
 * {@code pg_*} role, no privilege on a configuration parameter and no table under row-level security that its
 * owner would bypass there either; no ownership of the database or of objects in it; no right to create objects there; no
 * {@code ALTER ROLE ... SET} defaults (they would apply to every caller on every new session, and survive
 * {@code RESET ALL}). The last one a caller's SQL can change later, so each new session is checked for it again.
 * Every check reads the login role ({@code session_user}), whatever role a default may have set.
 */
final class PostgresProxyRole {
    private PostgresProxyRole() {
    }

    /**
     * The defaults a new session of the proxy role got at login, or that are set for its next logins: settings from
     * {@code ALTER ROLE ... SET} (with or without {@code IN DATABASE}), as the session reports them and as the
     * catalogue holds them (custom variables and {@code role} appear only there), and a role a default set at login
     * ({@code ALTER ROLE|DATABASE ... SET role}). Database-wide defaults of other settings are the database owner's,
     * whom the proxy role is not. One row per setting name and the statement that removes it; no value is read.
     */
    static final String LOGIN_DEFAULTS = "select d.name, d.fix from ("
            + "select s.name, case s.source when 'user' then pg_catalog.format('ALTER ROLE %I RESET %I', session_user, s.name)"
            + " else pg_catalog.format('ALTER ROLE %I IN DATABASE %I RESET %I', session_user,"
            + " pg_catalog.current_database(), s.name) end as fix"
            + " from pg_catalog.pg_settings s where s.source in ('user', 'database user')"
            + " union select 'role', pg_catalog.format('ALTER ROLE %I RESET role, or ALTER DATABASE %I RESET role',"
            + " session_user, pg_catalog.current_database()) where current_user <> session_user"
            + " union select pg_catalog.split_part(c, '=', 1), case"
            + " when r.setrole = 0 and r.setdatabase = 0 then 'ALTER ROLE ALL RESET role'"
            + " when r.setrole = 0 then pg_catalog.format('ALTER DATABASE %I RESET role', pg_catalog.current_database())"
            + " when r.setdatabase = 0 then pg_catalog.format('ALTER ROLE %I RESET %I', session_user, pg_catalog.split_part(c, '=', 1))"
            + " else pg_catalog.format('ALTER ROLE %I IN DATABASE %I RESET %I', session_user, pg_catalog.current_database(),"
            + " pg_catalog.split_part(c, '=', 1)) end"
            + " from pg_catalog.pg_db_role_setting r, pg_catalog.unnest(r.setconfig) c"
            + " where r.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database()))"
            + " and (r.setrole = (select oid from pg_catalog.pg_roles where rolname = session_user)"
            + " or (r.setrole = 0 and pg_catalog.split_part(c, '=', 1) = 'role'))"
            + ") d order by d.name, d.fix";

    /** How many owned objects a refusal names before it only counts them. */
    private static final int OBJECTS_NAMED = 10;

    /** What the proxy role can reach beyond the callers' roles, as (what, fix) rows; nothing when it is fit. */
    private static final String REACH = "with proxy as (select r.oid, r.rolname, r.rolsuper from pg_catalog.pg_roles r"
            + " where r.rolname = session_user),"
            + " db as (select d.oid, d.datname, d.datdba from pg_catalog.pg_database d"
            + " where d.datname = pg_catalog.current_database()),"
            // the proxy role and every role it can SET ROLE to, directly or through other roles (a superuser is a
            // member of every role: it is refused for what it is)
            + " reach as (select r.oid, r.rolname, r.rolsuper, r.rolcreaterole, r.rolbypassrls, r.rolreplication,"
            + " r.oid = p.oid as self,"
            + " exists (select 1 from pg_catalog.pg_auth_members m where m.member = p.oid and m.roleid = r.oid) as direct"
            + " from pg_catalog.pg_roles r, proxy p"
            + " where r.oid = p.oid or (not p.rolsuper and pg_catalog.pg_has_role(p.oid, r.oid, 'MEMBER'))),"
            + " attr as (select r.*, a.keyword from reach r, (values ('SUPERUSER'), ('CREATEROLE'), ('BYPASSRLS'),"
            + " ('REPLICATION')) a(keyword) where case a.keyword when 'SUPERUSER' then r.rolsuper"
            + " when 'CREATEROLE' then r.rolcreaterole when 'BYPASSRLS' then r.rolbypassrls else r.rolreplication end)"
            + " select what, fix from ("
            + "select 1 as o, case when a.self then '' else pg_catalog.format('can SET ROLE %I, which ', a.rolname) end"
            + " || case a.keyword when 'SUPERUSER' then 'is a superuser' else 'has ' || a.keyword end as what,"
            + " case when a.self then pg_catalog.format('ALTER ROLE %I NO%s', a.rolname, a.keyword)"
            + " when a.direct then pg_catalog.format('REVOKE %I FROM %I', a.rolname, p.rolname)"
            + " else pg_catalog.format('revoke the grant through which %I is a member of %I', p.rolname, a.rolname) end as fix"
            + " from attr a, proxy p"
            + " union all select 2, pg_catalog.format('is a member of the predefined role %I', r.rolname),"
            + " case when r.direct then pg_catalog.format('REVOKE %I FROM %I', r.rolname, p.rolname)"
            + " else pg_catalog.format('revoke the grant through which %I is a member of %I', p.rolname, r.rolname) end"
            + " from reach r, proxy p where r.rolname like 'pg\\_%' and r.rolname <> 'pg_database_owner'"
            + " union all select 3, pg_catalog.format('owns the database %I%s', d.datname, case when d.datdba = p.oid"
            + " then '' else pg_catalog.format(' (through role %I)', d.datdba::pg_catalog.regrole::text) end),"
            + " pg_catalog.format('ALTER DATABASE %I OWNER TO <a role that is not the proxy role>', d.datname)"
            + " from db d, proxy p where not p.rolsuper and pg_catalog.pg_has_role(p.oid, d.datdba, 'MEMBER')"
            // objects a session of the proxy role made temporary are that session's and go with it
            + " union all select 4, pg_catalog.format('owns %s object(s): %s%s', pg_catalog.count(*),"
            + " pg_catalog.array_to_string((pg_catalog.array_agg(o.description order by o.description))[1:" + OBJECTS_NAMED + "], ', '),"
            + " case when pg_catalog.count(*) > " + OBJECTS_NAMED + " then ', ...' else '' end),"
            + " pg_catalog.format('REASSIGN OWNED BY %I TO <a role that is not the proxy role>', p.rolname)"
            + " from proxy p, lateral (select pg_catalog.pg_describe_object(s.classid, s.objid, s.objsubid) as description"
            + " from pg_catalog.pg_shdepend s, db d where s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass"
            + " and s.refobjid = p.oid and s.deptype = 'o' and s.dbid in (0, d.oid)"
            + " and not (s.classid = 'pg_catalog.pg_database'::pg_catalog.regclass and s.objid = d.oid)"
            + " and coalesce((pg_catalog.pg_identify_object(s.classid, s.objid, s.objsubid)).schema, '')"
            + " !~ '^pg_(toast_)?temp_') o group by p.rolname"
            + " union all select 5, pg_catalog.format('may create schemas in the database %I', d.datname),"
            + " pg_catalog.format('REVOKE CREATE ON DATABASE %I FROM PUBLIC, %I', d.datname, p.rolname)"
            + " from db d, proxy p where not p.rolsuper and pg_catalog.has_database_privilege(p.oid, d.oid, 'CREATE')"
            + " union all select 6, pg_catalog.format('may create objects in schema %I', n.nspname),"
            + " pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, %I', n.nspname, p.rolname)"
            + " from pg_catalog.pg_namespace n, proxy p where not p.rolsuper and n.nspname !~ '^pg_(toast_)?temp_'"
            + " and pg_catalog.has_schema_privilege(p.oid, n.oid, 'CREATE')"
            // GRANT SET | ALTER SYSTEM ON PARAMETER (PostgreSQL 15 and later; to_regclass is null before)
            + " union all select 7, case when r.self then 'holds' else pg_catalog.format('can SET ROLE %I, which holds',"
            + " r.rolname) end || ' privileges on ' || pg_catalog.pg_describe_object(s.classid, s.objid, 0),"
            + " pg_catalog.format('REVOKE ALL ON PARAMETER %s FROM %I',"
            + " pg_catalog.substr(pg_catalog.pg_describe_object(s.classid, s.objid, 0), 11), r.rolname)"
            + " from pg_catalog.pg_shdepend s, reach r where s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass"
            + " and s.refobjid = r.oid and s.deptype = 'a' and s.dbid = 0"
            + " and s.classid = pg_catalog.to_regclass('pg_catalog.pg_parameter_acl')"
            // an owner bypasses its table's row-level security: a role every caller can become must own none
            + " union all select 8, pg_catalog.format('can SET ROLE %I, which owns table %s, whose row-level security"
            + " its owner bypasses', r.rolname, c.oid::pg_catalog.regclass::text),"
            + " pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY, or ALTER TABLE %s OWNER TO <a role the"
            + " proxy role cannot SET ROLE to>', c.oid::pg_catalog.regclass::text, c.oid::pg_catalog.regclass::text)"
            + " from reach r, pg_catalog.pg_class c where not r.self and c.relowner = r.oid and c.relrowsecurity"
            + " and not c.relforcerowsecurity and c.relpersistence <> 't'"
            + ") problems order by o, what";

    /**
     * Before a pool serves anyone: one round trip on a session of the proxy role that has not switched yet.
     *
     * @throws UnsafeProxyAccountException naming each problem and the statement that fixes it
     */
    static void check(Connection physical) throws SQLException {
        List<String> problems = new ArrayList<>();
        String proxyRole;
        try (Statement s = physical.createStatement()) {
            s.execute("select session_user; " + REACH + "; " + LOGIN_DEFAULTS);
            try (ResultSet rs = s.getResultSet()) {
                rs.next();
                proxyRole = rs.getString(1);
            }
            s.getMoreResults();
            try (ResultSet rs = s.getResultSet()) {
                while (rs.next()) {
                    problems.add(rs.getString(1) + " (" + rs.getString(2) + ")");
                }
            }
            s.getMoreResults();
            try (ResultSet rs = s.getResultSet()) {
                for (Map.Entry<String, String> d : defaults(rs).entrySet()) {
                    problems.add("has the default " + d.getKey() + " (" + d.getValue() + ")");
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new UnsafeProxyAccountException("the proxy role " + proxyRole + " may not serve callers: in SET ROLE"
                    + " mode a caller's SQL can act as the proxy role within its own lending, so the proxy role must"
                    + " reach nothing beyond the callers' roles, but it " + String.join("; it ", problems)
                    + ". Session settings the pool needs belong in the URL's options parameter"
                    + " (options=-c name=value), not in role defaults", problems, false);
        }
    }

    /**
     * Reads {@link #LOGIN_DEFAULTS} on a new session.
     *
     * @throws UnsafeProxyAccountException when the session has, or its role now has, defaults
     */
    static void requireNoLoginDefaults(ResultSet rs) throws SQLException {
        Map<String, String> found = defaults(rs);
        if (!found.isEmpty()) {
            List<String> problems = new ArrayList<>();
            found.forEach((name, fix) -> problems.add(name + " (" + fix + ")"));
            throw new UnsafeProxyAccountException("a new session of the proxy role has defaults for " + String.join(", ",
                    found.keySet()) + ", set for the proxy role since the pool started (ALTER ROLE ... SET, which a"
                    + " caller's SQL can run as the proxy role), and every caller it served would run with them; it was"
                    + " discarded. Remove them: " + String.join("; ", new java.util.LinkedHashSet<>(found.values())),
                    problems, true);
        }
    }

    /** Setting name to the statement(s) that remove it. */
    private static Map<String, String> defaults(ResultSet rs) throws SQLException {
        Map<String, String> found = new TreeMap<>();
        while (rs.next()) {
            found.merge(rs.getString(1), rs.getString(2),
                    (a, b) -> b.startsWith(a) ? b : a.startsWith(b) ? a : a + "; " + b);
        }
        return found;
    }
}
