package dev.proxyra.config;

/** The databases proxyra can switch identities on. */
public enum DialectKind {
    ORACLE, POSTGRESQL
}
