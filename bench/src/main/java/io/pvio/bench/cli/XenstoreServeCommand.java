package io.pvio.bench.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import io.pvio.bench.machine.PvMachine;
import io.pvio.hypervisor.xenstore.XenStore;
import io.pvio.hypervisor.xenstore.XenStoreConnection;
import io.pvio.hypervisor.xenstore.XenStoreException;
import io.pvio.hypervisor.xenstore.XenStoreSocketServer;
import io.pvio.hypervisor.xenstore.XsPermissions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pvio xenstore serve --socket PATH [--domain ID=NAME]... [--set PATH=VALUE]... [--duration D]}: a XenStore
 * of its own, with dom0 and the given domains introduced and named, served on a Unix domain socket until interrupted
 * or for {@code --duration}. Every connection acts as dom0, as {@code xenstored}'s socket does. Prints a status line
 * whenever the served counters have changed, at most every {@link CliSupport#STATUS_INTERVAL_SECONDS} seconds.
 */
@Command(
    name = "serve",
    description = {
        "Serve a XenStore on a Unix domain socket speaking xs_wire, as xenstored does: Xen's xenstore-ls, " +
            "xenstore-read, -write, -rm, -chmod and -watch work against it with XENSTORED_PATH=PATH. Every " +
            "connection is privileged (dom0); the socket is made 0600. Dom0 is named Domain-0; --domain " +
            "introduces more domains and --set writes nodes before serving starts.",
        "",
        "Runs until interrupted (Ctrl-C) or for --duration, then removes the socket."},
    footer = {
        "",
        "Example:",
        "  ./pvio xenstore serve --socket /tmp/xs.sock --domain 1=guest1 \\",
        "      --set /tool/pvio=demo &",
        "  XENSTORED_PATH=/tmp/xs.sock xenstore-ls /local/domain",
        "",
        "Exit status: 0 served and stopped; 1 the socket could not be served; 2 bad arguments."})
final class XenstoreServeCommand implements Callable<Integer>
{
    /** Most connections {@code --max-connections} takes. */
    static final int MAX_CONNECTIONS_LIMIT = 1024;

    @Spec
    private CommandSpec spec;

    private Path socket;
    private final Map<Integer, String> domains = new LinkedHashMap<>();
    private final List<String[]> nodes = new ArrayList<>();

    @Option(
        names = "--domain",
        order = 2,
        paramLabel = "ID=NAME",
        description = "Introduce domain ID (1 to " + XenStore.MAX_DOMAIN_ID + ") named NAME: its directory " +
            "/local/domain/ID owned by it, with its name and domid. Repeatable.")
    private List<String> domainArgs = new ArrayList<>();

    @Option(
        names = "--set",
        order = 3,
        paramLabel = "PATH=VALUE",
        description = "Write VALUE at the absolute node PATH, as dom0, before serving. Repeatable.")
    private List<String> setArgs = new ArrayList<>();
    private int maxConnections = XenStoreSocketServer.MAX_CONNECTIONS_DEFAULT;
    private long durationNanos;

    @Option(
        names = "--socket",
        order = 1,
        required = true,
        paramLabel = "PATH",
        description = "The socket file to create, in an existing directory; a stale socket there is replaced.")
    void socket(final Path path)
    {
        final String expected = socketPathProblem(path);
        if (null != expected)
        {
            throw bad("--socket", path.toString(), expected);
        }
        socket = path;
    }

    /**
     * Checks a path given for a socket to serve on.
     *
     * @param path the path.
     * @return null if a socket may be created there, else what was expected of it.
     */
    static String socketPathProblem(final Path path)
    {
        final Path parent = path.toAbsolutePath().getParent();
        if (null == parent || !Files.isDirectory(parent))
        {
            return "a path in an existing directory";
        }
        if (Files.isRegularFile(path) || Files.isDirectory(path))
        {
            return "a path that is free or holds a socket, not a file or directory";
        }
        return null;
    }

    private void domain(final String text)
    {
        final int equals = text.indexOf('=');
        final int id;
        try
        {
            id = equals > 0 ? Integer.parseInt(text.substring(0, equals)) : -1;
        }
        catch (final NumberFormatException ex)
        {
            throw bad("--domain", text, "ID=NAME with ID a number from 1 to " + XenStore.MAX_DOMAIN_ID);
        }
        if (id < 1 || id > XenStore.MAX_DOMAIN_ID)
        {
            throw bad("--domain", text, "ID=NAME with ID a number from 1 to " + XenStore.MAX_DOMAIN_ID);
        }
        final String name = text.substring(equals + 1);
        try
        {
            XenStore.checkDomainName(name);
        }
        catch (final IllegalArgumentException ex)
        {
            throw bad("--domain", text, "ID=NAME with a valid name (" + ex.getMessage() + ")");
        }
        if (null != domains.putIfAbsent(id, name))
        {
            throw bad("--domain", text, "a domain id not given before");
        }
    }

    private void set(final String text)
    {
        final int equals = text.indexOf('=');
        if (equals <= 0 || '/' != text.charAt(0))
        {
            throw bad("--set", text, "PATH=VALUE with PATH absolute, e.g. /tool/demo=1");
        }
        nodes.add(new String[] { text.substring(0, equals), text.substring(equals + 1) });
    }

    @Option(
        names = "--max-connections",
        order = 4,
        paramLabel = "N",
        description = "Connections served at once, 1 to " + MAX_CONNECTIONS_LIMIT + "; one more is refused " +
            "(default: " + XenStoreSocketServer.MAX_CONNECTIONS_DEFAULT + ").")
    void maxConnections(final int value)
    {
        if (value < 1 || value > MAX_CONNECTIONS_LIMIT)
        {
            throw bad("--max-connections", Integer.toString(value), "1 to " + MAX_CONNECTIONS_LIMIT);
        }
        maxConnections = value;
    }

    @Option(
        names = "--duration",
        order = 5,
        paramLabel = "D",
        description = "Stop after D, e.g. 30s or 5m (default: serve until interrupted).")
    void duration(final String text)
    {
        durationNanos = CliSupport.duration(spec, "--duration", text);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public Integer call() throws InterruptedException
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        domainArgs.forEach(this::domain);
        setArgs.forEach(this::set);
        final XenStore store = new XenStore();
        try
        {
            populate(store);
        }
        catch (final XenStoreException | IllegalArgumentException ex)
        {
            err.println(spec.qualifiedName() + ": --set: " + ex.getMessage());
            err.flush();
            return PvioCommand.EXIT_USAGE;
        }

        final XenStoreSocketServer server;
        try
        {
            server = XenStoreSocketServer.start(store, socket, line -> CliSupport.printLine(out, line), maxConnections);
        }
        catch (final IOException ex)
        {
            err.println(spec.qualifiedName() + ": " + socket + ": " + ex.getMessage());
            err.flush();
            return PvioCommand.EXIT_FAILURE;
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        final Thread hook = new Thread(() ->
        {
            server.close();
            stopped.countDown();
        }, "pvio-xenstore-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try
        {
            CliSupport.printLine(out, "xenstore: serving on " + server.path() + " (XENSTORED_PATH=" + server.path() +
                " xenstore-ls); " + (0 == durationNanos ? "Ctrl-C stops" : "stopping after --duration"));
            serve(server, stopped, out);
        }
        finally
        {
            server.close();
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ignore)
            {
                // the JVM is already shutting down: the hook closes the server too
            }
        }
        CliSupport.printLine(out, "xenstore: stopped; " + status(server));
        if (null != server.failure())
        {
            err.println(spec.qualifiedName() + ": the server failed: " + server.failure());
            err.flush();
            return PvioCommand.EXIT_FAILURE;
        }
        return PvioCommand.EXIT_OK;
    }

    private void populate(final XenStore store)
    {
        store.introduceDomain(XsPermissions.DOM0, PvMachine.DOM0_NAME);
        domains.forEach(store::introduceDomain);
        try (XenStoreConnection dom0 = store.connect(XsPermissions.DOM0))
        {
            for (final String[] node : nodes)
            {
                try
                {
                    dom0.write(node[0], node[1]);
                }
                catch (final XenStoreException ex)
                {
                    throw new IllegalArgumentException(node[0] + '=' + node[1] + ": " + ex.getMessage(), ex);
                }
            }
        }
    }

    private void serve(final XenStoreSocketServer server, final CountDownLatch stopped, final PrintWriter out)
        throws InterruptedException
    {
        CliSupport.serveUntilStopped(stopped, durationNanos, () -> null == server.failure(), () -> status(server),
            "xenstore: ", out);
    }

    private static String status(final XenStoreSocketServer server)
    {
        return server.requestsProcessed() + " requests, " + server.watchEventsSent() + " watch events, " +
            server.acceptedConnections() + " connections (" + server.openConnections() + " open, " +
            server.refusedConnections() + " refused, " + server.closedForProtocolErrors() + " cut off for " +
            "protocol errors)";
    }

    private ParameterException bad(final String option, final String value, final String expected)
    {
        return CliSupport.badValue(spec, option, value, expected);
    }
}
