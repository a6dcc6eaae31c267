package io.pvio.machine.memory;

/**
 * The frame allocator has fewer free frames than were asked for. Nothing was allocated.
 */
public final class OutOfMachineMemoryException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message who asked for how many frames, and how many were free.
     */
    public OutOfMachineMemoryException(final String message)
    {
        super(message);
    }
}
