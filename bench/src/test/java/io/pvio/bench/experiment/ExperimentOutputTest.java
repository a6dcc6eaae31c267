package io.pvio.bench.experiment;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentOutputTest
{
    private static ExperimentResult sample()
    {
        final ExperimentResult result = new ExperimentResult("ex", "A sample", "series", "x", "y");
        result.row("a, with comma", 1, 2.5).row("a, with comma", 2, 3.0).row("b \"quoted\"", 1, 0.5);
        result.check("y grows", true, "2.5 -> 3.0").check("fails", false, "on purpose").note("a note");
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.LINE, "x", List.of("y"), "series", "x",
            "y", false));
        return result;
    }

    @Test
    void csvQuotesCellsThatNeedIt()
    {
        assertEquals("series,x,y\n\"a, with comma\",1,2.5\n\"a, with comma\",2,3.0\n\"b \"\"quoted\"\"\",1,0.5\n",
            ExperimentOutput.csv(sample()));
    }

    @Test
    void printShowsTheTableTheChecksAndTheNotes()
    {
        final StringWriter text = new StringWriter();
        ExperimentOutput.print(sample(), new PrintWriter(text));
        final String printed = text.toString();
        assertTrue(printed.contains("PASS  y grows (2.5 -> 3.0)"), printed);
        assertTrue(printed.contains("FAIL  fails (on purpose)"), printed);
        assertTrue(printed.contains("note: a note"), printed);
        assertTrue(printed.contains("a, with comma  1  2.500"), printed);
    }

    @Test
    void writesCsvJsonPngAndSvg(@TempDir final Path dir) throws Exception
    {
        final List<Path> files = ExperimentOutput.write(sample(), dir);
        assertEquals(4, files.size());
        for (final Path file : files)
        {
            assertTrue(Files.size(file) > 0, file.toString());
        }
        final byte[] png = Files.readAllBytes(dir.resolve("ex.png"));
        assertEquals((byte)0x89, png[0]);
        assertEquals('P', png[1]);
        assertTrue(Files.readString(dir.resolve("ex.svg")).contains("<svg"));
        final Map<?, ?> json = new ObjectMapper().readValue(dir.resolve("ex.json").toFile(), Map.class);
        assertEquals(false, json.get("passed"));
        assertEquals(3, ((List<?>)json.get("rows")).size());
    }

    @Test
    void writesALineChartWithALogarithmicXAxis(@TempDir final Path dir) throws Exception
    {
        final ExperimentResult result = sample();
        result.chart(new ExperimentResult.Chart(ExperimentResult.Chart.Kind.LINE, "x", List.of("y"), "series", "x",
            "y", false, true));
        assertTrue(result.chart().logX());
        assertFalse(sample().chart().logX(), "the seven-argument chart has a linear x axis");
        ExperimentOutput.write(result, dir);
        assertTrue(Files.readString(dir.resolve("ex.svg")).contains("<svg"));
    }
}
