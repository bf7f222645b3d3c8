package dev.proxyra.it.servers;

/**
 * The redeploy cycle on Open Liberty as its guide says (docs/servers/open-liberty.md, "Undeploy"): the resource
 * adapter, its connection factory {@code jdbc/erp} and the applications leave the running server's server.xml, then
 * come back into it.
 */
class OpenLibertyRedeployIT extends ServerRedeployScenario {

    @Override
    protected String id() {
        return "open-liberty-redeploy";
    }

    @Override
    protected DemoServer create(ServerEnvironment env) {
        return new OpenLibertyServer(env);
    }

    private OpenLibertyServer liberty() {
        return (OpenLibertyServer) server;
    }

    @Override
    protected void startBare() throws Exception {
        liberty().startBare();
    }

    @Override
    protected void deployAll() throws Exception {
        liberty().deployProxyraDemoAndPlain();
    }

    @Override
    protected void undeployAll() throws Exception {
        liberty().undeploy();
    }

    /**
     * Liberty's log manager makes a java.util.logging logger a WsLogger whose TraceComponent keeps the class that
     * first asked for that logger name. The deployed copy of the adapter (and its pgjdbc, UCP and ojdbc) asks for the
     * same names as the undeployed ones, before a collection has cleared the log manager's weak reference to the
     * old logger, and gets that logger: its class field keeps the first copy's class, and so its loader, for as
     * long as the deployed copy holds its loggers. A heap dump after the four redeploys showed about thirty such
     * TraceComponents (proxyra's, pgjdbc's, UCP's, ojdbc's) and nothing else keeping that copy.
     */
    @Override
    protected ServerHolder serverHolder() {
        return new ServerHolder("the class a Liberty logger's TraceComponent was first created for", frame -> false,
                (type, field) -> type.equals("com/ibm/websphere/ras/TraceComponent") && field.equals("aClass"));
    }

    @Override
    protected long pid() {
        return liberty().pid();
    }
}
