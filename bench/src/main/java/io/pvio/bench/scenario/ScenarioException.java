package io.pvio.bench.scenario;

/**
 * A scenario file is unreadable or wrong; the message names the field and what was expected.
 */
public final class ScenarioException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * A scenario error.
     *
     * @param message the field's path, what was found and what was expected.
     */
    public ScenarioException(final String message)
    {
        super(message);
    }
}
