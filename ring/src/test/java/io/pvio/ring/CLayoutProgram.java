package io.pvio.ring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Builds and runs a C program that prints a Xen header's layout as "name value" lines, for the layout tests to hold
 * the Java descriptors against. Needs gcc and Debian's {@code libxen-dev}: without them the calling test is skipped,
 * except under CI (the {@code CI} environment variable set), where a missing toolchain fails it.
 */
public final class CLayoutProgram
{
    private CLayoutProgram()
    {
    }

    /**
     * Compiles {@code source} with gcc ({@code -Wall -Wextra -Werror -D__XEN_TOOLS__}), runs it and parses its lines.
     *
     * @param source the C file, relative to the module.
     * @param header the Xen header it includes, which must be installed.
     * @param name   the program's name under {@code target/}.
     * @return each printed name with its value.
     * @throws IOException          if the build or the run cannot start.
     * @throws InterruptedException if interrupted while waiting.
     */
    public static Map<String, Long> compileAndRun(final Path source, final Path header, final String name)
        throws IOException, InterruptedException
    {
        final boolean haveToolchain = Files.exists(header) && onPath("gcc");
        if (!haveToolchain && null != System.getenv("CI"))
        {
            throw new IllegalStateException("CI must provide gcc and " + header + " (apt-get install libxen-dev gcc)");
        }
        assumeTrue(haveToolchain, "needs gcc and " + header + " (apt-get install libxen-dev gcc)");

        final Path out = Paths.get("target", "c-" + name);
        Files.createDirectories(out);
        final Path program = out.resolve(name).toAbsolutePath();
        final String compiled = run("gcc", "-std=c11", "-O0", "-Wall", "-Wextra", "-Werror", "-D__XEN_TOOLS__", "-o",
            program.toString(), source.toString());
        assertEquals("", compiled.trim(), "gcc printed diagnostics");

        final Map<String, Long> values = new HashMap<>();
        for (final String line : run(program.toString()).split("\n"))
        {
            final String[] parts = line.trim().split(" ");
            assertEquals(2, parts.length, "unexpected output line: " + line);
            values.put(parts[0], Long.parseLong(parts[1]));
        }
        return values;
    }

    private static String run(final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        assertEquals(0, process.exitValue(), String.join(" ", command) + " failed:\n" + output);
        return output;
    }

    private static boolean onPath(final String command)
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(":"))
        {
            if (Files.isExecutable(Paths.get(dir, command)))
            {
                return true;
            }
        }
        return false;
    }
}
