package dev.proxyra.spi;

import jakarta.resource.spi.ConnectionRequestInfo;

import dev.proxyra.identity.DbIdentity;

/** The identity a connection request runs as, resolved on the caller's thread before the server's pool is asked. */
public record IdentityRequest(DbIdentity identity) implements ConnectionRequestInfo {
}
