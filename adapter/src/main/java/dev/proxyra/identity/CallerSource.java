package dev.proxyra.identity;

/**
 * Names the caller whose database identity a connection request should run as: the counterpart of
 * litex.cxpool's {@code user_source}. Configure the implementing class in the {@code CallerSource}
 * property; it needs a public no-argument constructor and is loaded through the calling thread's
 * context class loader, then the adapter's. One instance serves all threads, so it must be thread-safe.
 */
public interface CallerSource {

    /**
     * The caller's principal name on the calling thread, or null when this source does not know the
     * caller (the next source in the chain is then tried). Prefix, mapping and case rules apply to the result.
     */
    String currentCaller();
}
