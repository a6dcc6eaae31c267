package io.pvio.hypervisor;

/**
 * A domain's lifecycle. It moves forward only, except between {@link #RUNNING} and {@link #PAUSED}.
 */
public enum DomainState
{
    /** Built, memory populated, not yet scheduled. */
    CREATED,
    /** Its vCPUs may run. */
    RUNNING,
    /** Its vCPUs are held; its memory, grants and ports stay. */
    PAUSED,
    /** Being destroyed: ports closed, mappings released, memory going back. */
    DYING,
    /** Gone; frames still mapped by others are held until unmapped. */
    DEAD
}
