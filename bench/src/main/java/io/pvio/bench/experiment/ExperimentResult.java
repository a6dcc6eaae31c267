package io.pvio.bench.experiment;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An experiment's output: a table (columns and rows; each column's name says whether it is measured, counted or
 * modeled), the checks of its qualitative claim, notes (assumptions, sources) and a chart description.
 */
public final class ExperimentResult
{
    private final String name;
    private final String title;
    private final List<String> columns;
    private final List<Object[]> rows = new ArrayList<>();
    private final List<Check> checks = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private Chart chart;
    private long wallNanos;

    /**
     * An empty result.
     *
     * @param name    the experiment's name.
     * @param title   a title.
     * @param columns column names.
     */
    public ExperimentResult(final String name, final String title, final String... columns)
    {
        this.name = name;
        this.title = title;
        this.columns = List.of(columns);
    }

    /**
     * Adds a row.
     *
     * @param values one value per column: numbers or strings.
     * @return this.
     */
    public ExperimentResult row(final Object... values)
    {
        if (values.length != columns.size())
        {
            throw new IllegalArgumentException(values.length + " values for " + columns.size() + " columns");
        }
        rows.add(values.clone());
        return this;
    }

    /**
     * Records a check of the qualitative result.
     *
     * @param claim  what should hold.
     * @param passed whether it did.
     * @param detail the figures behind it.
     * @return this.
     */
    public ExperimentResult check(final String claim, final boolean passed, final String detail)
    {
        checks.add(new Check(claim, passed, detail));
        return this;
    }

    /**
     * Adds a note.
     *
     * @param note the note.
     * @return this.
     */
    public ExperimentResult note(final String note)
    {
        notes.add(note);
        return this;
    }

    /**
     * Sets the chart.
     *
     * @param chart the chart.
     * @return this.
     */
    public ExperimentResult chart(final Chart chart)
    {
        this.chart = chart;
        return this;
    }

    void wallNanos(final long nanos)
    {
        wallNanos = nanos;
    }

    /**
     * Wall-clock time of the run (measured).
     *
     * @return nanoseconds.
     */
    public long wallNanos()
    {
        return wallNanos;
    }

    /**
     * The experiment's name.
     *
     * @return the name.
     */
    public String name()
    {
        return name;
    }

    /**
     * The title.
     *
     * @return the title.
     */
    public String title()
    {
        return title;
    }

    /**
     * Column names.
     *
     * @return the columns.
     */
    public List<String> columns()
    {
        return columns;
    }

    /**
     * Rows.
     *
     * @return the rows, unmodifiable.
     */
    public List<Object[]> rows()
    {
        return Collections.unmodifiableList(rows);
    }

    /**
     * The value of a column in a row.
     *
     * @param row    the row index.
     * @param column the column name.
     * @return the value.
     */
    public Object value(final int row, final String column)
    {
        final int index = columns.indexOf(column);
        if (index < 0)
        {
            throw new IllegalArgumentException("no column " + column + " in " + columns);
        }
        return rows.get(row)[index];
    }

    /**
     * A numeric value of a column in a row.
     *
     * @param row    the row index.
     * @param column the column name.
     * @return the value as a double.
     */
    public double number(final int row, final String column)
    {
        return ((Number)value(row, column)).doubleValue();
    }

    /**
     * The first row whose {@code column} equals {@code value}.
     *
     * @param column the column.
     * @param value  the value.
     * @return the row index.
     */
    public int find(final String column, final Object value)
    {
        for (int i = 0; i < rows.size(); i++)
        {
            if (value.equals(value(i, column)))
            {
                return i;
            }
        }
        throw new IllegalArgumentException("no row with " + column + " = " + value);
    }

    /**
     * The checks.
     *
     * @return the checks.
     */
    public List<Check> checks()
    {
        return Collections.unmodifiableList(checks);
    }

    /**
     * Whether every check passed.
     *
     * @return true if so.
     */
    public boolean passed()
    {
        return checks.stream().allMatch(Check::passed);
    }

    /**
     * The notes.
     *
     * @return the notes.
     */
    public List<String> notes()
    {
        return Collections.unmodifiableList(notes);
    }

    /**
     * The chart.
     *
     * @return the chart, null if none.
     */
    public Chart chart()
    {
        return chart;
    }

    /**
     * A check of the experiment's qualitative claim.
     *
     * @param claim  what should hold.
     * @param passed whether it did.
     * @param detail the figures.
     */
    public record Check(String claim, boolean passed, String detail)
    {
    }

    /**
     * How to chart the table: one series per y column, or per value of a series column.
     *
     * @param kind         line or bar.
     * @param xColumn      the x (or category) column.
     * @param yColumns     the y columns.
     * @param seriesColumn rows are grouped into series by this column (null for none).
     * @param xLabel       the x axis title.
     * @param yLabel       the y axis title.
     * @param logY         a logarithmic y axis.
     * @param logX         a logarithmic x axis (line charts only).
     */
    public record Chart(
        Kind kind, String xColumn, List<String> yColumns, String seriesColumn, String xLabel, String yLabel,
        boolean logY, boolean logX)
    {
        /**
         * A chart with a linear x axis.
         *
         * @param kind         line or bar.
         * @param xColumn      the x (or category) column.
         * @param yColumns     the y columns.
         * @param seriesColumn rows are grouped into series by this column (null for none).
         * @param xLabel       the x axis title.
         * @param yLabel       the y axis title.
         * @param logY         a logarithmic y axis.
         */
        public Chart(
            final Kind kind, final String xColumn, final List<String> yColumns, final String seriesColumn,
            final String xLabel, final String yLabel, final boolean logY)
        {
            this(kind, xColumn, yColumns, seriesColumn, xLabel, yLabel, logY, false);
        }

        /** Chart kinds. */
        public enum Kind
        {
            /** Lines over a numeric x. */
            LINE,
            /** Bars over categories. */
            BAR
        }
    }
}
