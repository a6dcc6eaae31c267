package io.pvio.hypervisor.ioreq;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Compiles {@code src/test/c/ioreq_layout.c} with gcc against Xen's own {@code /usr/include/xen/hvm/ioreq.h}, runs
 * it, and holds every offset, size, bitfield position and constant it prints against {@link IoreqLayout}. Needs
 * Debian's {@code libxen-dev} and {@code gcc}: without them the tests are skipped, except under CI (the {@code CI}
 * environment variable set), where a missing toolchain fails them.
 */
class IoreqLayoutTest
{
    private static final Path SOURCE = Paths.get("src/test/c/ioreq_layout.c");
    private static final Path IOREQ_H = Paths.get("/usr/include/xen/hvm/ioreq.h");
    private static final Map<String, Long> C_VALUES = new HashMap<>();

    @BeforeAll
    static void compileAndRun() throws IOException, InterruptedException
    {
        final boolean haveToolchain = Files.exists(IOREQ_H) && onPath("gcc");
        if (!haveToolchain && null != System.getenv("CI"))
        {
            throw new IllegalStateException("CI must provide gcc and " + IOREQ_H + " (apt-get install libxen-dev gcc)");
        }
        assumeTrue(haveToolchain, "needs gcc and " + IOREQ_H + " (apt-get install libxen-dev gcc)");

        final Path out = Paths.get("target", "c-ioreq");
        Files.createDirectories(out);
        final Path program = out.resolve("ioreq_layout").toAbsolutePath();
        final String compiled = run(
            "gcc", "-std=c11", "-O0", "-Wall", "-Wextra", "-Werror", "-D__XEN_TOOLS__", "-o", program.toString(),
            SOURCE.toString());
        assertEquals("", compiled.trim(), "gcc printed diagnostics");

        for (final String line : run(program.toString()).split("\n"))
        {
            final String[] parts = line.trim().split(" ");
            assertEquals(2, parts.length, "unexpected output line: " + line);
            C_VALUES.put(parts[0], Long.parseLong(parts[1]));
        }
    }

    static Stream<Arguments> layout()
    {
        return Stream.of(
            arguments("ioreq.sizeof", IoreqLayout.LENGTH),
            arguments("ioreq.alignof", Long.BYTES),
            arguments("ioreq.addr", IoreqLayout.ADDR_OFFSET),
            arguments("ioreq.addr.size", Long.BYTES),
            arguments("ioreq.data", IoreqLayout.DATA_OFFSET),
            arguments("ioreq.data.size", Long.BYTES),
            arguments("ioreq.count", IoreqLayout.COUNT_OFFSET),
            arguments("ioreq.count.size", Integer.BYTES),
            arguments("ioreq.size", IoreqLayout.SIZE_OFFSET),
            arguments("ioreq.size.size", Integer.BYTES),
            arguments("ioreq.vp_eport", IoreqLayout.VP_EPORT_OFFSET),
            arguments("ioreq.vp_eport.size", Integer.BYTES),
            arguments("ioreq._pad0", IoreqLayout.VP_EPORT_OFFSET + Integer.BYTES),
            arguments("ioreq._pad0.size", Short.BYTES),
            arguments("ioreq.type", IoreqLayout.TYPE_OFFSET),
            arguments("ioreq.type.size", 1),

            arguments("ioreq.state.byte", IoreqLayout.BITS_OFFSET),
            arguments("ioreq.state.value", IoreqLayout.STATE_MASK),
            arguments("ioreq.data_is_ptr.byte", IoreqLayout.BITS_OFFSET),
            arguments("ioreq.data_is_ptr.value", IoreqLayout.DATA_IS_PTR_BIT),
            arguments("ioreq.dir.byte", IoreqLayout.BITS_OFFSET),
            arguments("ioreq.dir.value", 1 << IoreqLayout.DIR_SHIFT),
            arguments("ioreq.df.byte", IoreqLayout.BITS_OFFSET),
            arguments("ioreq.df.value", IoreqLayout.DF_BIT),

            arguments("IOREQ_READ", IoreqLayout.DIR_READ),
            arguments("IOREQ_WRITE", IoreqLayout.DIR_WRITE),
            arguments("STATE_IOREQ_NONE", IoreqLayout.STATE_NONE),
            arguments("STATE_IOREQ_READY", IoreqLayout.STATE_READY),
            arguments("STATE_IOREQ_INPROCESS", IoreqLayout.STATE_INPROCESS),
            arguments("STATE_IORESP_READY", IoreqLayout.STATE_IORESP_READY),
            arguments("IOREQ_TYPE_PIO", IoreqLayout.TYPE_PIO),
            arguments("IOREQ_TYPE_COPY", IoreqLayout.TYPE_COPY));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("layout")
    void shouldMatchOffsetsAndConstantsGccDerivesFromIoreqH(final String name, final Number javaValue)
    {
        final Long cValue = C_VALUES.get(name);
        assertNotNull(cValue, "the C program did not print " + name);
        assertEquals(cValue.longValue(), javaValue.longValue(), name);
    }

    @Test
    void shouldCheckEveryValueTheCProgramPrints()
    {
        final Set<String> unchecked = new TreeSet<>(C_VALUES.keySet());
        layout().forEach((arguments) -> unchecked.remove((String)arguments.get()[0]));
        assertEquals(Set.of(), unchecked, "values the C program prints that no Java constant is held against");
    }

    @Test
    void shouldPackStateAndDirectionIntoTheBitfieldByteAsGccDoes()
    {
        final UnsafeBuffer slot = new UnsafeBuffer(new byte[IoreqLayout.LENGTH]);
        slot.putByte(IoreqLayout.BITS_OFFSET,
            IoreqLayout.bits(IoreqLayout.STATE_IORESP_READY, IoreqLayout.DIR_READ));
        final long expected = C_VALUES.get("STATE_IORESP_READY") | C_VALUES.get("ioreq.dir.value");
        assertEquals(expected, slot.getByte(IoreqLayout.BITS_OFFSET) & 0xFF);
        assertEquals(IoreqLayout.STATE_IORESP_READY, IoreqLayout.stateAcquire(slot, 0));
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
