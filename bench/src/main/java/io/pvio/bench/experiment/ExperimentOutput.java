package io.pvio.bench.experiment;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Writes an {@link ExperimentResult}: an aligned table with its checks and notes for the terminal, and, into a
 * directory, {@code NAME.csv}, {@code NAME.json} and the chart as {@code NAME.png} and {@code NAME.svg}.
 */
public final class ExperimentOutput
{
    private ExperimentOutput()
    {
    }

    /**
     * Prints the table, the checks (PASS/FAIL with their figures) and the notes.
     *
     * @param result the result.
     * @param out    where to print.
     */
    public static void print(final ExperimentResult result, final PrintWriter out)
    {
        out.println(result.name() + ": " + result.title());
        final List<String> columns = result.columns();
        final int[] widths = new int[columns.size()];
        final List<String[]> cells = new ArrayList<>();
        for (int c = 0; c < columns.size(); c++)
        {
            widths[c] = columns.get(c).length();
        }
        for (final Object[] row : result.rows())
        {
            final String[] text = new String[row.length];
            for (int c = 0; c < row.length; c++)
            {
                text[c] = format(row[c]);
                widths[c] = Math.max(widths[c], text[c].length());
            }
            cells.add(text);
        }
        final StringBuilder line = new StringBuilder();
        for (int c = 0; c < columns.size(); c++)
        {
            line.append(c == 0 ? "" : "  ").append(pad(columns.get(c), widths[c], c > 0));
        }
        out.println(line);
        for (final String[] row : cells)
        {
            line.setLength(0);
            for (int c = 0; c < row.length; c++)
            {
                line.append(c == 0 ? "" : "  ").append(pad(row[c], widths[c], c > 0));
            }
            out.println(line);
        }
        out.println();
        for (final ExperimentResult.Check check : result.checks())
        {
            out.println((check.passed() ? "PASS  " : "FAIL  ") + check.claim() + " (" + check.detail() + ")");
        }
        for (final String note : result.notes())
        {
            out.println("note: " + note);
        }
        out.printf(Locale.ROOT, "wall time (measured): %.2f s%n", result.wallNanos() / 1e9);
        out.flush();
    }

    /**
     * Writes the CSV, JSON and chart files.
     *
     * @param result the result.
     * @param dir    the directory (created if missing).
     * @return the files written.
     * @throws IOException if a file cannot be written.
     */
    public static List<Path> write(final ExperimentResult result, final Path dir) throws IOException
    {
        Files.createDirectories(dir);
        final List<Path> written = new ArrayList<>();
        final Path csv = dir.resolve(result.name() + ".csv");
        Files.writeString(csv, csv(result), StandardCharsets.UTF_8);
        written.add(csv);
        final Path json = dir.resolve(result.name() + ".json");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), json(result));
        written.add(json);
        if (null != result.chart())
        {
            System.setProperty("java.awt.headless", "true");
            final Chart<?, ?> chart = chart(result);
            final String base = dir.resolve(result.name()).toString();
            BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
            VectorGraphicsEncoder.saveVectorGraphic(chart, base, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            written.add(dir.resolve(result.name() + ".png"));
            written.add(dir.resolve(result.name() + ".svg"));
        }
        return written;
    }

    static String csv(final ExperimentResult result)
    {
        final StringBuilder out = new StringBuilder();
        out.append(String.join(",", result.columns().stream().map(ExperimentOutput::csvCell).toList())).append('\n');
        for (final Object[] row : result.rows())
        {
            for (int c = 0; c < row.length; c++)
            {
                out.append(c == 0 ? "" : ",").append(csvCell(row[c] instanceof String ? (String)row[c] :
                    String.valueOf(row[c])));
            }
            out.append('\n');
        }
        return out.toString();
    }

    static Map<String, Object> json(final ExperimentResult result)
    {
        final Map<String, Object> root = new LinkedHashMap<>();
        root.put("experiment", result.name());
        root.put("title", result.title());
        root.put("columns", result.columns());
        root.put("rows", result.rows());
        final List<Map<String, Object>> checks = new ArrayList<>();
        for (final ExperimentResult.Check check : result.checks())
        {
            final Map<String, Object> c = new LinkedHashMap<>();
            c.put("claim", check.claim());
            c.put("passed", check.passed());
            c.put("detail", check.detail());
            checks.add(c);
        }
        root.put("checks", checks);
        root.put("passed", result.passed());
        root.put("notes", result.notes());
        root.put("wallSecondsMeasured", result.wallNanos() / 1e9);
        return root;
    }

    private static Chart<?, ?> chart(final ExperimentResult result)
    {
        final ExperimentResult.Chart spec = result.chart();
        if (ExperimentResult.Chart.Kind.BAR == spec.kind())
        {
            final CategoryChart chart = new CategoryChartBuilder().width(960).height(540).title(result.title())
                .xAxisTitle(spec.xLabel()).yAxisTitle(spec.yLabel()).build();
            chart.getStyler().setYAxisLogarithmic(spec.logY());
            final List<String> categories = new ArrayList<>();
            for (int r = 0; r < result.rows().size(); r++)
            {
                categories.add(String.valueOf(result.value(r, spec.xColumn())));
            }
            for (final String y : spec.yColumns())
            {
                final List<Number> values = new ArrayList<>();
                for (int r = 0; r < result.rows().size(); r++)
                {
                    values.add(Math.max(spec.logY() ? 1e-3 : 0, result.number(r, y)));
                }
                chart.addSeries(y, categories, values);
            }
            return chart;
        }
        final XYChart chart = new XYChartBuilder().width(960).height(540).title(result.title())
            .xAxisTitle(spec.xLabel()).yAxisTitle(spec.yLabel()).build();
        chart.getStyler().setYAxisLogarithmic(spec.logY());
        chart.getStyler().setXAxisLogarithmic(spec.logX());
        final Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int r = 0; r < result.rows().size(); r++)
        {
            final String key = null == spec.seriesColumn() ? "" : String.valueOf(result.value(r, spec.seriesColumn()));
            groups.computeIfAbsent(key, (k) -> new ArrayList<>()).add(r);
        }
        for (final Map.Entry<String, List<Integer>> group : groups.entrySet())
        {
            for (final String y : spec.yColumns())
            {
                final double[] xs = new double[group.getValue().size()];
                final double[] ys = new double[xs.length];
                for (int i = 0; i < xs.length; i++)
                {
                    xs[i] = result.number(group.getValue().get(i), spec.xColumn());
                    ys[i] = result.number(group.getValue().get(i), y);
                }
                final String name = group.getKey().isEmpty() ? y :
                    spec.yColumns().size() == 1 ? group.getKey() : group.getKey() + " " + y;
                chart.addSeries(name, xs, ys).setMarker(SeriesMarkers.CIRCLE);
            }
        }
        return chart;
    }

    private static String format(final Object value)
    {
        if (value instanceof Double || value instanceof Float)
        {
            final double d = ((Number)value).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15)
            {
                return String.format(Locale.ROOT, "%.1f", d);
            }
            return Math.abs(d) >= 100 ? String.format(Locale.ROOT, "%.1f", d) :
                String.format(Locale.ROOT, "%.3f", d);
        }
        return String.valueOf(value);
    }

    private static String pad(final String text, final int width, final boolean right)
    {
        if (text.length() >= width)
        {
            return text;
        }
        final String spaces = " ".repeat(width - text.length());
        return right ? spaces + text : text + spaces;
    }

    private static String csvCell(final String text)
    {
        if (text.indexOf(',') < 0 && text.indexOf('"') < 0 && text.indexOf('\n') < 0)
        {
            return text;
        }
        return '"' + text.replace("\"", "\"\"") + '"';
    }
}
