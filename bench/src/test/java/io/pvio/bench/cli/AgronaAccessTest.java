package io.pvio.bench.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class AgronaAccessTest
{
    private static final long CHILD_TIMEOUT_S = 60;

    @Test
    void shouldBeAvailableWhenJvmHasAddExportsFlag()
    {
        assertTrue(AgronaAccess.isAvailable(), "surefire's argLine carries " + AgronaAccess.REQUIRED_JVM_FLAG);
    }

    @Test
    void shouldPrintFlagMessageAndExitWithFailureWhenJvmLacksAddExportsFlag(@TempDir final Path tempDir)
        throws IOException, InterruptedException
    {
        final ChildResult result = runPvio(tempDir, List.of(), "--help");

        assertEquals(PvioCommand.EXIT_FAILURE, result.exitCode, result.output);
        assertEquals(AgronaAccess.MISSING_FLAG_MESSAGE, result.output.strip());
        assertFalse(result.output.contains("IllegalAccessError"), result.output);
    }

    @Test
    void shouldRunCommandWhenChildJvmHasAddExportsFlag(@TempDir final Path tempDir)
        throws IOException, InterruptedException
    {
        final ChildResult result =
            runPvio(tempDir, List.of(AgronaAccess.REQUIRED_JVM_FLAG.split(" ")), "--version");

        assertEquals(PvioCommand.EXIT_OK, result.exitCode, result.output);
        assertTrue(result.output.startsWith("pvio "), result.output);
    }

    private static ChildResult runPvio(final Path tempDir, final List<String> jvmFlags, final String... args)
        throws IOException, InterruptedException
    {
        final String java = ProcessHandle.current().info().command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        final List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), PvioCommand.class.getName()));
        command.addAll(List.of(args));

        final ProcessBuilder builder = new ProcessBuilder(command);
        final Map<String, String> environment = builder.environment();
        environment.remove("JDK_JAVA_OPTIONS");
        environment.remove("JAVA_TOOL_OPTIONS");
        final Path outputFile = tempDir.resolve("pvio-output.txt");
        builder.redirectErrorStream(true);
        builder.redirectOutput(outputFile.toFile());

        final Process child = builder.start();
        if (!child.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS))
        {
            child.destroyForcibly();
            fail("child JVM did not exit within " + CHILD_TIMEOUT_S + " s: " + command);
        }
        return new ChildResult(child.exitValue(), Files.readString(outputFile, StandardCharsets.UTF_8));
    }

    private static final class ChildResult
    {
        private final int exitCode;
        private final String output;

        ChildResult(final int exitCode, final String output)
        {
            this.exitCode = exitCode;
            this.output = output;
        }
    }
}
