package dev.proxyra.identity;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.proxyra.SqlState;
import dev.proxyra.config.DialectKind;
import dev.proxyra.config.ProxyraConfig;
import dev.proxyra.monitoring.Refusal;

/**
 * Decides which database identity a connection request runs as, on the calling thread: the caller
 * chain (explicit user, CallerSource, the server's own security API, Jakarta Security, JACC Subject), then
 * prefix, map and case,
 * then validation of the database user name. Every refusal is an SQLException with SQLState 28000
 * that says why, tagged with its {@link Refusal} reason; nothing here ever falls back to the proxy account unless
 * UnauthenticatedAccess says so.
 */
public final class IdentityResolver {
    public static final String AUTHORIZATION_STATE = SqlState.INVALID_AUTHORIZATION;

    private final ProxyraConfig config;
    private final List<CallerLookup> chain;
    private final int maxNameBytes;
    /** EndToEndTags=APPLICATION on a dialect that sets them: each identity carries its component's names. */
    private final boolean componentNames;

    public IdentityResolver(ProxyraConfig config) {
        this(config, defaultChain(config));
    }

    IdentityResolver(ProxyraConfig config, List<CallerLookup> chain) {
        this.config = config;
        this.chain = List.copyOf(chain);
        // Oracle 12.2+ identifiers: 128 bytes; PostgreSQL: NAMEDATALEN - 1 = 63 bytes.
        this.maxNameBytes = config.dialect() == DialectKind.ORACLE ? 128 : 63;
        this.componentNames = config.endToEndTags() == ProxyraConfig.EndToEndTags.APPLICATION
                && dev.proxyra.dialect.Dialect.of(config.dialect()).tagsComponents();
    }

    private static List<CallerLookup> defaultChain(ProxyraConfig config) {
        List<CallerLookup> chain = new ArrayList<>();
        if (config.callerSource() != null) {
            chain.add(new ConfiguredCallerSource(config.callerSource()));
        }
        ServerCaller server = ServerCaller.forThisServer();
        if (server != null) {
            chain.add(server);
        }
        // Each portable source only where its API is there: a server (or an embedding) may lack Jakarta Security,
        // CDI or JACC, and a class that names them fails to initialise without them.
        if (present("jakarta.security.enterprise.SecurityContext") && present("jakarta.enterprise.inject.spi.CDI")) {
            chain.add(new SecurityContextCaller());
        }
        if (present("jakarta.security.jacc.PolicyContext")) {
            chain.add(new ContainerSubjectCaller());
        }
        return chain;
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, IdentityResolver.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The identity for {@code DataSource.getConnection()}, with the requesting component's names when tagged. */
    public DbIdentity resolve() throws SQLException {
        DbIdentity identity = resolveCaller();
        return componentNames ? identity.withComponent(ComponentNames.ofCaller()) : identity;
    }

    private DbIdentity resolveCaller() throws SQLException {
        List<String> tried = new ArrayList<>(0);
        for (CallerLookup source : chain) {
            List<String> names;
            try {
                names = source.candidates();
            } catch (CallerResolutionException e) {
                throw unresolved(e);
            }
            String caller = withPrefix(names);
            if (caller != null) {
                DbIdentity identity = identityFor(caller, source.description());
                return config.roleMap().isEmpty() ? identity : withRoles(identity, source);
            }
            boolean anonymous;
            try {
                anonymous = names.isEmpty() && source.anonymous();
            } catch (CallerResolutionException e) {
                throw unresolved(e);
            }
            tried.add(source.description() + (anonymous ? ": anonymous (nobody signed in)" : names.isEmpty() ? ": no caller"
                    : ": no principal starting with PrincipalPrefix '" + config.principalPrefix() + "' among " + names));
            if (anonymous) {
                break; // the server knows: no weaker source may present its anonymous principal as a caller
            }
        }
        return switch (config.unauthenticatedAccess()) {
            case PROXY_USER -> DbIdentity.PROXY_ACCOUNT;
            case METADATA_ONLY -> DbIdentity.METADATA_ONLY;
            case DENY -> throw refused(Refusal.NO_CALLER, "no caller could be resolved for this connection request (tried "
                    + String.join("; ", tried) + "); UnauthenticatedAccess=DENY refuses to connect without a caller", null);
        };
    }

    /** The identity for {@code DataSource.getConnection(user, password)}. */
    public DbIdentity resolveExplicit(String user, String password) throws SQLException {
        if (!config.allowExplicitUser()) {
            throw refused(Refusal.CONFIGURATION, "getConnection(user, password) is not allowed: set AllowExplicitUser=true to let"
                    + " applications name the database user", null);
        }
        if (user == null) {
            throw refused(Refusal.NO_CALLER, "getConnection(user, password) was called with a null user", null);
        }
        if (password != null && config.dialect() == DialectKind.POSTGRESQL) {
            throw refused(Refusal.CONFIGURATION, "a password cannot be checked on PostgreSQL (SET ROLE does not authenticate): call"
                    + " getConnection(user, null) for user '" + printable(user) + "'", null);
        }
        DbIdentity identity = identityFor(user, "explicit user");
        identity = password == null ? identity : identity.withPassword(password);
        return componentNames ? identity.withComponent(ComponentNames.ofCaller()) : identity;
    }

    /** RoleMap: the database roles of the caller's container groups, enabled in its proxy session. */
    private DbIdentity withRoles(DbIdentity identity, CallerLookup source) throws SQLException {
        List<String> roles = new ArrayList<>();
        try {
            for (String group : source.groups()) {
                String role = config.roleMap().get(group);
                if (role != null) {
                    roles.add(role);
                }
            }
        } catch (CallerResolutionException e) {
            throw refused(e.isConfiguration() ? Refusal.CONFIGURATION : Refusal.NO_CALLER,
                    "the caller's groups cannot be resolved: " + e.getMessage(), e.getCause());
        }
        return new DbIdentity(identity.databaseUser(), identity.caller(), identity.password(), roles);
    }

    private String withPrefix(List<String> names) {
        String prefix = config.principalPrefix();
        if (prefix == null) {
            return names.isEmpty() ? null : names.get(0);
        }
        for (String name : names) {
            if (name.startsWith(prefix) && name.length() > prefix.length()) {
                return name.substring(prefix.length());
            }
        }
        return null;
    }

    private DbIdentity identityFor(String caller, String source) throws SQLException {
        String mapped = config.principalMap().get(caller);
        String dbUser;
        if (mapped != null) {
            dbUser = mapped;
        } else if (config.requirePrincipalMapping()) {
            throw refused(Refusal.NOT_MAPPED, "caller '" + printable(caller) + "' (from " + source + ") is not in PrincipalMap and"
                    + " RequirePrincipalMapping=true", null);
        } else {
            dbUser = fold(caller, config.principalCase(), source);
        }
        validate(dbUser, caller, source);
        return DbIdentity.of(dbUser, caller);
    }

    /**
     * PrincipalCase, one code point at a time with Unicode's simple case mappings (no locale and no context: no
     * final sigma, no ß to SS, no dotted I to two code points). A code point is kept only when it is the folded one or
     * that one's own case pair: then two callers fold to one database user only when they are plain case variants
     * of each other. Others (KELVIN SIGN to k, dotless ı or long ſ to I and S, titlecase letters) would make one
     * caller another's user: refused, naming the code point.
     */
    static String fold(String caller, ProxyraConfig.PrincipalCase principalCase, String source) throws SQLException {
        if (principalCase == ProxyraConfig.PrincipalCase.AS_IS) {
            return caller;
        }
        boolean upper = principalCase == ProxyraConfig.PrincipalCase.UPPER;
        StringBuilder folded = null;
        for (int i = 0, n = caller.length(); i < n; ) {
            int cp = caller.codePointAt(i);
            int to = upper ? Character.toUpperCase(cp) : Character.toLowerCase(cp);
            if (to != cp && cp != (upper ? Character.toLowerCase(to) : Character.toUpperCase(to))) {
                throw refused(Refusal.NOT_MAPPED, "caller '" + printable(caller) + "' (from " + source + ") cannot be"
                        + " folded by PrincipalCase=" + principalCase + ": " + codePoint(cp) + " would become "
                        + codePoint(to) + ", whose own " + (upper ? "lower" : "upper") + " case is "
                        + codePoint(upper ? Character.toLowerCase(to) : Character.toUpperCase(to)) + ", so another"
                        + " caller's name could map to the same database user; map this caller in PrincipalMap or"
                        + " use PrincipalCase=AS_IS", null);
            }
            if (to != cp && folded == null) {
                folded = new StringBuilder(n).append(caller, 0, i);
            }
            if (folded != null) {
                folded.appendCodePoint(to);
            }
            i += Character.charCount(cp);
        }
        return folded == null ? caller : folded.toString();
    }

    private static String codePoint(int cp) {
        String name = Character.getName(cp);
        return String.format("U+%04X", cp) + (name == null ? "" : " (" + name + ")");
    }

    private void validate(String dbUser, String caller, String source) throws SQLException {
        if (dbUser.isBlank()) {
            throw refused(Refusal.NOT_MAPPED, "the " + what(dbUser, caller, source) + " is empty", null);
        }
        int bytes = 0;
        for (int i = 0; i < dbUser.length(); ) {
            int cp = dbUser.codePointAt(i);
            if (Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT
                    || Character.getType(cp) == Character.SURROGATE) {
                throw refused(Refusal.NOT_MAPPED, "the " + what(dbUser, caller, source) + " contains a control character (U+"
                        + String.format("%04X", cp) + ")", null);
            }
            bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            i += Character.charCount(cp);
        }
        if (bytes > maxNameBytes) {
            throw refused(Refusal.NOT_MAPPED, "the " + what(dbUser, caller, source) + " is " + bytes + " bytes long; "
                    + config.dialect().name().toLowerCase(Locale.ROOT) + " allows at most " + maxNameBytes, null);
        }
        String ruleBroken = dev.proxyra.dialect.Dialect.of(config.dialect()).userNameRuleBroken(dbUser);
        if (ruleBroken != null) {
            throw refused(Refusal.NOT_MAPPED, "the " + what(dbUser, caller, source) + " " + ruleBroken, null);
        }
    }

    /** Only built for a refusal: the common, valid case pays for no message. */
    private static String what(String dbUser, String caller, String source) {
        return "database user '" + printable(dbUser) + "' for caller '" + printable(caller) + "' (from " + source + ")";
    }

    /** Shows a name in a message with control characters escaped and its length bounded. */
    static String printable(String name) {
        StringBuilder sb = new StringBuilder();
        name.codePoints().limit(80).forEach(cp -> {
            if (Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT) {
                sb.append(String.format("\\u%04X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return name.codePointCount(0, name.length()) > 80 ? sb + "..." : sb.toString();
    }

    private static SQLException refused(Refusal reason, String why, Throwable cause) {
        return reason.authorization("proxyra: " + why, cause);
    }

    private static SQLException unresolved(CallerResolutionException e) {
        return refused(e.isConfiguration() ? Refusal.CONFIGURATION : Refusal.NO_CALLER,
                "the caller cannot be resolved: " + e.getMessage(), e.getCause());
    }
}
