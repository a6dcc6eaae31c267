package io.pvio.bench;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real tools the tests drive: a missing one skips its test, or fails it when {@code PVIO_REQUIRE_TOOLS=1} (as CI
 * sets, after installing them).
 */
public final class ExternalTools
{
    private ExternalTools()
    {
    }

    /**
     * Skips (or fails, when required) unless a tool is installed.
     *
     * @param path the tool's path.
     * @param pkg  the Debian package that provides it.
     */
    public static void requireTool(final String path, final String pkg)
    {
        final boolean present = Files.isExecutable(Path.of(path));
        if (!present && "1".equals(System.getenv("PVIO_REQUIRE_TOOLS")))
        {
            fail(path + " is not installed and PVIO_REQUIRE_TOOLS=1 (apt-get install " + pkg + ")");
        }
        assumeTrue(present, "needs " + path + " (apt-get install " + pkg + ")");
    }
}
