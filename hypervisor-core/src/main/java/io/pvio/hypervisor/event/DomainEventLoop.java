package io.pvio.hypervisor.event;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.IdleStrategy;

import static io.pvio.hypervisor.event.SharedInfoDescriptor.UPCALL_PENDING_BYTE_MASK;
import static io.pvio.hypervisor.event.SharedInfoDescriptor.maskIndex;
import static io.pvio.hypervisor.event.SharedInfoDescriptor.pendingIndex;

abstract class DomainEventLoopLhsPadding
{
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

abstract class DomainEventLoopWakeFields extends DomainEventLoopLhsPadding
{
    /** The thread about to park or parked in {@link DomainEventLoop#park()}; read by every waking sender. */
    Thread parkedThread;
}

abstract class DomainEventLoopMidPadding extends DomainEventLoopWakeFields
{
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

abstract class DomainEventLoopFields extends DomainEventLoopMidPadding
{
    /** Pass marker: odd while {@link DomainEventLoop#doWork()} dispatches, even otherwise. Written by the loop. */
    long pass;

    /** The thread of the current or last pass. */
    Thread dispatchThread;

    /** Handler calls so far. */
    long handled;

    /** Times the loop parked. */
    long parks;

    /** Handler calls that threw. */
    long handlerErrors;
}

abstract class DomainEventLoopRhsPadding extends DomainEventLoopFields
{
    long r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15;
}

/**
 * The event loop of a domain's vCPU 0: the guest's upcall handler, run on a thread of the receiving domain. It takes
 * pending, unmasked ports from the domain's {@code shared_info} words and calls their {@link EventHandler}s.
 * <p>
 * <b>One pass</b> ({@link #doWork()}), exactly as Xen's 2-level guest handler: clear {@code evtchn_upcall_pending}
 * first, exchange {@code evtchn_pending_sel} with 0, and for each selected word take {@code pending & ~mask}; for each
 * bit, test-and-clear the pending bit and call the port's handler. Repeat while the upcall was raised again, up to
 * {@value #MAX_ROUNDS_PER_PASS} rounds, so that a peer's event storm cannot hold the loop in one pass; the upcall
 * then stays raised and the next pass carries on. A port with no handler keeps its pending bit for
 * {@link EventChannels#bindHandler(int, EventHandler)} to deliver.
 * <p>
 * <b>Three ways to run it.</b> As the upcall handler of the domain's vCPU 0 under the scheduler
 * ({@code io.pvio.hypervisor.sched}): the vCPU registers {@link #upcallListener(UpcallListener)}, a raised upcall wakes
 * the vCPU, and its CPU delivers the upcall by calling {@link #doWork()}. As an Agrona {@link Agent}, alone or in a
 * {@code CompositeAgent}, under an {@code AgentRunner} whose idle strategy is {@link #idleStrategy(int, int)}, which
 * parks the thread until an event arrives; or by {@link #run()} on a thread of the domain's own, which does the same.
 * Tests may call {@link #doWork()} by hand. One thread at a time runs the loop.
 * <p>
 * <b>No lost wake-up.</b> The sender that raises the upcall 0&rarr;1 then reads {@code parkedThread} (volatile) and
 * unparks it if set. The loop, out of work, stores its thread in {@code parkedThread} (volatile) and then re-reads
 * the upcall flag (volatile), parking only if it is still clear. All four accesses are sequentially consistent, so at
 * least one side sees the other's store: either the loop sees the upcall and does not park, or the sender sees the
 * thread and unparks it; an unpark that lands before the park leaves a permit, and the park returns at once.
 * <p>
 * <b>No handler after close.</b> A pass stores an odd pass marker (volatile) before reading any handler (volatile);
 * {@code close} stores null in the handler slot (volatile), then reads the marker (volatile) and, if a pass is under
 * way on another thread, waits for it to end. So once {@code close} returns, the port's handler is neither running
 * nor about to run. A handler that closes its own port does not wait for itself.
 * <p>
 * Hot fields are padded: {@code parkedThread}, read by every sender that wakes the loop, sits on its own cache lines,
 * apart from the pass marker and counters the loop writes on every pass.
 */
public final class DomainEventLoop extends DomainEventLoopRhsPadding implements Agent, Runnable
{
    /** Most rounds (selector exchanges) in one {@link #doWork()} pass. */
    public static final int MAX_ROUNDS_PER_PASS = 16;

    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle HANDLER = MethodHandles.arrayElementVarHandle(EventHandler[].class);
    private static final VarHandle PARKED_THREAD;
    private static final VarHandle PASS;
    private static final VarHandle HANDLED;
    private static final VarHandle PARKS;
    private static final VarHandle HANDLER_ERRORS;
    private static final int UPCALL_INDEX = SharedInfoDescriptor.upcallPendingIndex(0);
    private static final int SELECTOR_INDEX = SharedInfoDescriptor.pendingSelectorIndex(0);
    private static final int SPINS_BEFORE_YIELD = 100;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            PARKED_THREAD = lookup.findVarHandle(DomainEventLoopWakeFields.class, "parkedThread", Thread.class);
            PASS = lookup.findVarHandle(DomainEventLoopFields.class, "pass", long.class);
            HANDLED = lookup.findVarHandle(DomainEventLoopFields.class, "handled", long.class);
            PARKS = lookup.findVarHandle(DomainEventLoopFields.class, "parks", long.class);
            HANDLER_ERRORS = lookup.findVarHandle(DomainEventLoopFields.class, "handlerErrors", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final EventChannels channels;
    private final long[] words;
    private final EventHandler[] handlers;
    private final String roleName;
    private volatile boolean running = true;
    private volatile ErrorHandler errorHandler = Throwable::printStackTrace;
    private volatile UpcallListener upcallListener;

    DomainEventLoop(final EventChannels channels, final long[] words, final EventHandler[] handlers)
    {
        this.channels = channels;
        this.words = words;
        this.handlers = handlers;
        this.roleName = "evtchn-d" + channels.domainId();
    }

    /**
     * The domain's event channels.
     *
     * @return the channels this loop serves.
     */
    public EventChannels channels()
    {
        return channels;
    }

    /**
     * Sets where exceptions thrown by handlers go; the default prints the stack trace. Set it before the loop runs.
     *
     * @param errorHandler receives each handler's exception, on the loop thread.
     * @return this loop.
     */
    public DomainEventLoop errorHandler(final ErrorHandler errorHandler)
    {
        if (null == errorHandler)
        {
            throw new NullPointerException("errorHandler");
        }
        // volatile store: read (volatile) by the loop thread only when a handler throws
        this.errorHandler = errorHandler;
        return this;
    }

    /**
     * Hands the loop to a scheduled vCPU: from now on a raised upcall calls {@code listener} (which wakes the vCPU,
     * whose upcall runs {@link #doWork()}) instead of unparking a thread. Null goes back to parked threads.
     *
     * @param listener told of every 0-to-1 edge of {@code evtchn_upcall_pending}, or null.
     * @return this loop.
     */
    public DomainEventLoop upcallListener(final UpcallListener listener)
    {
        // volatile store: read (volatile) by every sender that raises the upcall
        this.upcallListener = listener;
        return this;
    }

    /**
     * An idle strategy for the thread that runs this loop: spin, then yield, then park until an event arrives or the
     * loop {@linkplain #stop() stops}. Give one to the {@code AgentRunner} that runs this loop; one per thread.
     *
     * @param maxSpins  idle calls that spin before yielding.
     * @param maxYields idle calls that yield before parking.
     * @return a new idle strategy.
     * @throws IllegalArgumentException if a count is negative.
     */
    public IdleStrategy idleStrategy(final int maxSpins, final int maxYields)
    {
        return new EventLoopIdleStrategy(this, maxSpins, maxYields);
    }

    /**
     * One pass of the upcall handler; returns at once if no upcall is pending.
     *
     * @return handler calls made.
     */
    @Override
    public int doWork()
    {
        final long[] words = this.words;
        // acquire read: the cheap idle poll; a set flag missed here is the sender's cue to wake us, see park()
        if (0 == ((long)WORD.getAcquire(words, UPCALL_INDEX) & UPCALL_PENDING_BYTE_MASK))
        {
            return 0;
        }
        final long pass = this.pass;
        dispatchThread = Thread.currentThread();
        // volatile store before any handler read: a closer that nulled a handler either is seen here as null or
        // sees this odd marker and waits for the pass to end (Dekker, with close's store then read)
        PASS.setVolatile(this, pass + 1);
        int handled = 0;
        try
        {
            int rounds = 0;
            do
            {
                // volatile RMW, clearing only the upcall_pending byte: first, so a send after the selector
                // exchange below raises it again and brings us round once more
                WORD.getAndBitwiseAnd(words, UPCALL_INDEX, ~UPCALL_PENDING_BYTE_MASK);
                // volatile exchange: takes every word marked so far; senders mark a word again on its next edge
                long selector = (long)WORD.getAndSet(words, SELECTOR_INDEX, 0L);
                while (0 != selector)
                {
                    final int word = Long.numberOfTrailingZeros(selector);
                    selector &= selector - 1;
                    handled += dispatchWord(words, word);
                }
                rounds++;
            }
            // volatile read: raised again while we dispatched
            while (0 != ((long)WORD.getVolatile(words, UPCALL_INDEX) & UPCALL_PENDING_BYTE_MASK) &&
                rounds < MAX_ROUNDS_PER_PASS);
        }
        finally
        {
            // release: the pass is over; a waiting closer's volatile read sees the change
            PASS.setRelease(this, pass + 2);
            // opaque: a live counter for other threads, no ordering needed
            HANDLED.setOpaque(this, this.handled + handled);
        }
        return handled;
    }

    /**
     * Runs the loop on the calling thread, parking whenever there is nothing to do, until {@link #stop()} or the
     * domain is destroyed.
     */
    @Override
    public void run()
    {
        run(new EventLoopIdleStrategy(this, 0, 0));
    }

    /**
     * Runs the loop on the calling thread with the given idle strategy until {@link #stop()} or the domain is
     * destroyed. With a strategy from {@link #idleStrategy(int, int)} the thread parks when idle and an event wakes it.
     *
     * @param idleStrategy called with each pass's work count.
     */
    public void run(final IdleStrategy idleStrategy)
    {
        // volatile read: stop() may come from any thread
        while (running)
        {
            idleStrategy.idle(doWork());
        }
    }

    /**
     * Stops the loop for good: {@link #run()} returns and a parked thread wakes. Safe from any thread; the domain's
     * destruction calls it.
     */
    public void stop()
    {
        // volatile store, then the volatile read in kick(): pairs with park's store-thread-then-read-running
        running = false;
        kick();
    }

    /**
     * Whether the loop has not been stopped.
     *
     * @return true until {@link #stop()}.
     */
    public boolean isRunning()
    {
        return running;
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public void onClose()
    {
        stop();
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String roleName()
    {
        return roleName;
    }

    /**
     * Handler calls made so far; a live reading from any thread.
     *
     * @return the count.
     */
    public long handled()
    {
        return (long)HANDLED.getOpaque(this);
    }

    /**
     * Times the loop's thread parked so far; a live reading from any thread.
     *
     * @return the count.
     */
    public long parks()
    {
        return (long)PARKS.getOpaque(this);
    }

    /**
     * Handler calls that threw so far; a live reading from any thread.
     *
     * @return the count.
     */
    public long handlerErrors()
    {
        return (long)HANDLER_ERRORS.getOpaque(this);
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "DomainEventLoop{" + roleName + ", running=" + running + ", handled=" + handled() + ", parks=" +
            parks() + '}';
    }

    /**
     * Parks the calling thread until an upcall is pending or the loop stops; returns at once if either is already
     * so. See the class comment for why no wake-up is lost.
     */
    void park()
    {
        // volatile store, then the volatile reads below: pairs with deliver's upcall RMW then kick's read (Dekker)
        PARKED_THREAD.setVolatile(this, Thread.currentThread());
        if (running && 0 == ((long)WORD.getVolatile(words, UPCALL_INDEX) & UPCALL_PENDING_BYTE_MASK))
        {
            // opaque: a live counter, written by this thread only
            PARKS.setOpaque(this, parks + 1);
            LockSupport.park(this);
        }
        // release: a sender that still reads the thread only leaves a spare permit, which one later park absorbs
        PARKED_THREAD.setRelease(this, null);
    }

    /**
     * Wakes the loop's thread if it is parked or about to park. Called by the sender that raised the upcall.
     */
    void kick()
    {
        // volatile read: a loop handed to a vCPU is woken through it
        final UpcallListener listener = upcallListener;
        if (null != listener)
        {
            listener.onUpcall();
            return;
        }
        // volatile read after the caller's upcall RMW (or stop's store): see park()
        final Thread thread = (Thread)PARKED_THREAD.getVolatile(this);
        if (null != thread)
        {
            LockSupport.unpark(thread);
        }
    }

    /**
     * Waits until a pass that may have read a handler just nulled by the caller has ended. Called by {@code close}
     * after the handler slot's volatile store; returns at once on the loop's own thread or when no pass is running.
     */
    void awaitHandlerExit()
    {
        // volatile read after the handler slot's volatile null store: see the class comment
        final long pass = (long)PASS.getVolatile(this);
        if (0 == (pass & 1) || dispatchThread == Thread.currentThread())
        {
            return;
        }
        int spins = 0;
        // volatile read: the loop's release store of the next even marker ends the wait
        while ((long)PASS.getVolatile(this) == pass)
        {
            if (++spins < SPINS_BEFORE_YIELD)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }

    private int dispatchWord(final long[] words, final int word)
    {
        final int pendingIndex = pendingIndex(word);
        final EventHandler[] handlers = this.handlers;
        // volatile reads: the snapshot of ports ready now; later edges mark the selector again
        long ready = (long)WORD.getVolatile(words, pendingIndex) & ~(long)WORD.getVolatile(words, maskIndex(word));
        int handled = 0;
        while (0 != ready)
        {
            final int bit = Long.numberOfTrailingZeros(ready);
            ready &= ready - 1;
            final int port = SharedInfoDescriptor.port(word, bit);
            // volatile read after the odd pass marker: see the class comment
            final EventHandler handler = (EventHandler)HANDLER.getVolatile(handlers, port);
            if (null != handler)
            {
                final long bitMask = 1L << bit;
                // volatile test-and-clear, before the handler runs: a send from here on is a new event. As a full
                // fence it also orders the handler's reads after the sender's writes that preceded its send.
                if (0 != ((long)WORD.getAndBitwiseAnd(words, pendingIndex, ~bitMask) & bitMask))
                {
                    handled++;
                    invoke(handler, port);
                }
            }
        }
        return handled;
    }

    private void invoke(final EventHandler handler, final int port)
    {
        try
        {
            handler.onEvent(port);
        }
        catch (final Throwable ex)
        {
            // opaque: a live counter, written by this thread only
            HANDLER_ERRORS.setOpaque(this, handlerErrors + 1);
            try
            {
                errorHandler.onError(ex);
            }
            catch (final Throwable inner)
            {
                ex.addSuppressed(inner);
                ex.printStackTrace();
            }
        }
    }
}
