package io.pvio.ring.example;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Keeps the README's embedding example identical to the compiled and tested {@link EchoExample}.
 */
class ReadmeExampleTest
{
    private static final String INDENT = "        ";

    @Test
    void shouldShowTheCompiledExampleVerbatim() throws IOException
    {
        final String source = Files.readString(
            Paths.get("src/test/java/io/pvio/ring/example/EchoExample.java"));
        final String tagged = between(source, "// tag::example[]\n", INDENT + "// end::example[]");
        final String expected = tagged.lines()
            .map((line) -> line.startsWith(INDENT) ? line.substring(INDENT.length()) : line)
            .collect(Collectors.joining("\n"));

        final Path readme = Paths.get("..", "README.md");
        final String shown = between(
            Files.readString(readme), "<!-- example:start -->\n```java\n", "```\n<!-- example:end -->");

        assertEquals(expected.strip(), shown.strip(), "README.md example differs from EchoExample.java");
    }

    private static String between(final String text, final String start, final String end)
    {
        final int from = text.indexOf(start);
        final int to = text.indexOf(end, from + start.length());
        if (from < 0 || to < 0)
        {
            throw new AssertionError("markers not found: " + start.strip() + " ... " + end.strip());
        }
        return text.substring(from + start.length(), to);
    }
}
