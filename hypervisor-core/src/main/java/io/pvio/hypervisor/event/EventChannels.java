package io.pvio.hypervisor.event;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;

import io.pvio.hypervisor.Domain;
import io.pvio.hypervisor.Errno;
import io.pvio.hypervisor.HypercallException;
import io.pvio.hypervisor.Hypervisor;

import static io.pvio.hypervisor.event.SharedInfoDescriptor.UPCALL_PENDING;
import static io.pvio.hypervisor.event.SharedInfoDescriptor.maskIndex;
import static io.pvio.hypervisor.event.SharedInfoDescriptor.pendingIndex;
import static io.pvio.hypervisor.event.SharedInfoDescriptor.portBit;
import static io.pvio.hypervisor.event.SharedInfoDescriptor.portWord;

/**
 * One domain's event channels: its port table and the event words of its {@code shared_info}
 * ({@link SharedInfoDescriptor}), with the guest's side of them and the domain's {@link DomainEventLoop}.
 * <p>
 * <b>Ports.</b> {@value #MAX_PORTS} ports, 2-level ABI; port 0 is reserved and never valid. Each port is
 * {@link PortState#FREE}, {@link PortState#UNBOUND} (waiting for one named domain) or {@link PortState#INTERDOMAIN}
 * (connected to a remote domain's port). Ports are created and changed only by the owner's hypercalls
 * ({@link EventChannelOps}); a port number is only ever looked up in the caller's own table, and the remote end is
 * reached only through the binding, so no domain can name another domain's port.
 * <p>
 * <b>Delivery</b>, as Xen's 2-level send path: a send sets the remote port's pending bit; only if the bit went
 * 0&rarr;1 and the port is not masked does it set the word's bit in vCPU 0's {@code evtchn_pending_sel}, and only if
 * that went 0&rarr;1 does it set {@code evtchn_upcall_pending}, and only if that went 0&rarr;1 does it wake the
 * domain's loop thread. So sends to a port that is already pending coalesce into one handler call and cost one read.
 * The loop's thread runs the handler; the sender never runs receiver code.
 * <p>
 * <b>Guest side.</b> The owner's drivers register a handler per port with {@link #bindHandler(int, EventHandler)},
 * and mask a port with {@link #mask(int)}, an atomic bit write to {@code evtchn_mask} as a guest writes its
 * {@code shared_info}; unmasking goes through {@link EventChannelOps#unmask(int)}, which re-delivers an event that
 * arrived while masked. An event on a port with no handler yet stays pending and is delivered when a handler is
 * bound; this keeps the event {@code bind_interdomain} raises for sends that preceded the bind.
 * <p>
 * <b>Concurrency.</b> Sends, masks, unmasks and the loop take no lock: the pending, mask and selector words change
 * by atomic read-modify-writes, and a port's binding is one immutable object read with acquire. Binding changes
 * (allocate, bind, close, destroy) are rare and lock the domains involved, both in domain-id order for interdomain
 * ones, as Xen's {@code double_evtchn_lock} does.
 */
public final class EventChannels
{
    /** Ports in the table, {@code EVTCHN_2L_NR_CHANNELS}; valid port numbers are 1 to {@code MAX_PORTS - 1}. */
    public static final int MAX_PORTS = SharedInfoDescriptor.EVTCHN_2L_NR_CHANNELS;

    /** Port 0, reserved at domain creation ({@code ECS_RESERVED}) and never valid. */
    public static final int RESERVED_PORT = 0;

    static final String ALLOC_UNBOUND = "alloc_unbound";
    static final String BIND_INTERDOMAIN = "bind_interdomain";
    static final String SEND = "send";
    static final String CLOSE = "close";
    static final String UNMASK = "unmask";
    static final String STATUS = "status";
    static final String BIND_VIRQ = "bind_virq";

    /** {@code VIRQ_TIMER}: the vCPU's one-shot timer ({@code set_timer_op}) expired. */
    public static final int VIRQ_TIMER = 0;

    /** Virtual interrupts a port can be bound to ({@code NR_VIRQS}). */
    public static final int NR_VIRQS = 24;

    /** Bit of {@code evtchn_upcall_mask} (byte 1 of {@code vcpu_info}) in the first word. */
    private static final long UPCALL_MASK_BIT = 1L << 8;

    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle PORT = MethodHandles.arrayElementVarHandle(PortBinding[].class);
    private static final VarHandle HANDLER = MethodHandles.arrayElementVarHandle(EventHandler[].class);
    private static final VarHandle VIRQ_PORT = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle RAISED_BY_HYPERVISOR;
    private static final int UPCALL_INDEX = SharedInfoDescriptor.upcallPendingIndex(0);
    private static final int SELECTOR_INDEX = SharedInfoDescriptor.pendingSelectorIndex(0);

    private final Domain owner;
    private final int domainId;
    private final long[] words = new long[SharedInfoDescriptor.ARRAY_LENGTH];
    private final PortBinding[] ports = new PortBinding[MAX_PORTS];
    private final EventHandler[] handlers = new EventHandler[MAX_PORTS];
    private final int[] virqPorts = new int[NR_VIRQS];
    private volatile UpcallListener pollListener;
    /** Read and written through {@link #RAISED_BY_HYPERVISOR} only. */
    private long raisedByHypervisor;
    private final Object lock = new Object();
    private final DomainEventLoop loop;
    private boolean closed;

    static
    {
        try
        {
            RAISED_BY_HYPERVISOR = MethodHandles.lookup().findVarHandle(
                EventChannels.class, "raisedByHypervisor", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /**
     * Creates the empty port table of {@code owner}, with every port free. Called by {@link Domain}'s constructor.
     *
     * @param hypervisor the hypervisor the domain belongs to.
     * @param owner      the domain whose ports these are; its id must already be set.
     */
    public EventChannels(final Hypervisor hypervisor, final Domain owner)
    {
        Objects.requireNonNull(hypervisor, "hypervisor");
        this.owner = owner;
        this.domainId = owner.id();
        Arrays.fill(ports, PortBinding.FREE);
        this.loop = new DomainEventLoop(this, words, handlers);
    }

    /**
     * The domain that owns these ports.
     *
     * @return the owner.
     */
    public Domain owner()
    {
        return owner;
    }

    /**
     * The owner's domain id.
     *
     * @return the id.
     */
    public int domainId()
    {
        return domainId;
    }

    /**
     * The loop that runs this domain's handlers; run it on a thread of the domain (see {@link DomainEventLoop}).
     *
     * @return the domain's event loop.
     */
    public DomainEventLoop eventLoop()
    {
        return loop;
    }

    /**
     * Registers the handler the event loop calls for {@code port}. If the port is already pending and unmasked (an
     * event that came before the handler, such as the one {@code bind_interdomain} raises), it is delivered now.
     * The handler stays until the port is closed.
     *
     * @param port    a port of this domain that is unbound or interdomain.
     * @param handler called on the loop's thread for each event.
     * @throws IllegalArgumentException if the port is out of range.
     * @throws IllegalStateException    if the port is free or already has a handler.
     */
    public void bindHandler(final int port, final EventHandler handler)
    {
        Objects.requireNonNull(handler, "handler");
        checkGuestPort(port);
        synchronized (lock)
        {
            if (PortState.FREE == ports[port].state)
            {
                throw new IllegalStateException("domain " + domainId + " port " + port + " is free");
            }
            if (null != handlers[port])
            {
                throw new IllegalStateException("domain " + domainId + " port " + port + " already has a handler");
            }
            // volatile store, then the volatile pending read below: a loop pass that read null left the bit set,
            // and either we see the bit and deliver, or the bit is set later and that send's delivery finds us
            HANDLER.setVolatile(handlers, port, handler);
        }
        final long[] words = this.words;
        final int word = portWord(port);
        final long bit = portBit(port);
        final long ready = (long)WORD.getVolatile(words, pendingIndex(word)) &
            ~(long)WORD.getVolatile(words, maskIndex(word));
        if (0 != (ready & bit))
        {
            deliver(word);
        }
    }

    /**
     * Masks a port: sends still set it pending, but raise no upcall until {@link EventChannelOps#unmask(int)}. The
     * guest's own write to {@code evtchn_mask}, so no hypercall; an atomic OR, since other ports share the word.
     *
     * @param port a port number of this domain.
     * @throws IllegalArgumentException if the port is out of range.
     */
    public void mask(final int port)
    {
        checkGuestPort(port);
        // volatile read-modify-write: atomic against the other bits of the word, and ordered before any later read
        WORD.getAndBitwiseOr(words, maskIndex(portWord(port)), portBit(port));
    }

    /**
     * Whether a port is masked, as the guest reads {@code evtchn_mask}.
     *
     * @param port a port number of this domain.
     * @return true if masked.
     * @throws IllegalArgumentException if the port is out of range.
     */
    public boolean isMasked(final int port)
    {
        checkGuestPort(port);
        // volatile read: a live view of the bit
        return 0 != ((long)WORD.getVolatile(words, maskIndex(portWord(port))) & portBit(port));
    }

    /**
     * Whether a port has an event its handler has not yet taken, as the guest reads {@code evtchn_pending}.
     *
     * @param port a port number of this domain.
     * @return true if pending.
     * @throws IllegalArgumentException if the port is out of range.
     */
    public boolean isPending(final int port)
    {
        checkGuestPort(port);
        // volatile read: a live view of the bit
        return 0 != ((long)WORD.getVolatile(words, pendingIndex(portWord(port))) & portBit(port));
    }

    /**
     * Whether {@code vcpu_info[0].evtchn_upcall_pending} is set, as the guest reads it.
     *
     * @return true if an upcall is pending.
     */
    public boolean upcallPending()
    {
        // volatile read: set by senders on any thread
        return 0 != ((long)WORD.getVolatile(words, UPCALL_INDEX) & SharedInfoDescriptor.UPCALL_PENDING_BYTE_MASK);
    }

    /**
     * Writes {@code vcpu_info[0].evtchn_upcall_mask}: the para-virtual guest's "interrupts off". Senders still set
     * ports pending and raise {@code evtchn_upcall_pending}; the vCPU only holds the upcall back while masked.
     *
     * @param masked the new mask.
     */
    public void upcallMask(final boolean masked)
    {
        // volatile RMW on the word that also holds upcall_pending (byte 0), which senders change concurrently
        if (masked)
        {
            WORD.getAndBitwiseOr(words, UPCALL_INDEX, UPCALL_MASK_BIT);
        }
        else
        {
            WORD.getAndBitwiseAnd(words, UPCALL_INDEX, ~UPCALL_MASK_BIT);
        }
    }

    /**
     * Reads {@code vcpu_info[0].evtchn_upcall_mask}.
     *
     * @return true if upcalls are masked.
     */
    public boolean upcallMasked()
    {
        // opaque: only the guest's own vCPU writes the mask
        return 0 != ((long)WORD.getOpaque(words, UPCALL_INDEX) & UPCALL_MASK_BIT);
    }

    /**
     * Sets who is told when a masked port goes pending: the vCPU sleeping in {@code SCHEDOP_poll}, which must wake
     * for its polled ports even though they are masked. Null when no vCPU polls.
     *
     * @param listener the poller's waker, or null.
     */
    public void pollListener(final UpcallListener listener)
    {
        // volatile store: read by every sender that finds its port masked
        this.pollListener = listener;
    }

    /**
     * Raises a virtual interrupt: sets the port bound to it pending, as Xen's {@code send_guest_vcpu_virq}. A VIRQ
     * with no port bound is dropped. Called by the hypervisor (the timer), from any thread.
     *
     * @param virq 0 to {@link #NR_VIRQS} - 1.
     * @return true if a port was bound to it.
     */
    public boolean raiseVirq(final int virq)
    {
        // opaque: the port number is published by bindVirq before any timer that raises it is armed
        final int port = (int)VIRQ_PORT.getOpaque(virqPorts, virq);
        if (0 == port)
        {
            return false;
        }
        raise(port);
        return true;
    }

    /**
     * Sets one of the owner's ports pending on behalf of a hypervisor service, as Xen's
     * {@code notify_via_xen_event_channel}: the ioreq server raises the device model's port this way for each request.
     * Lock-free and allocation-free; any thread.
     *
     * @param port a port of the owner, 1 to {@link #MAX_PORTS} - 1.
     * @throws HypercallException EINVAL if the port is out of range.
     */
    public void raiseFromHypervisor(final int port)
    {
        checkPort(port, SEND);
        // atomic add: ioreq servers of several vCPUs may raise at once
        RAISED_BY_HYPERVISOR.getAndAdd(this, 1L);
        raise(port);
    }

    /**
     * Events the hypervisor has sent to the owner's ports with {@link #raiseFromHypervisor(int)}, coalesced or not:
     * the sends that are no {@code EVTCHNOP_send} of any domain, so the domains' {@code EVTCHN_SEND} counts and this
     * count together are every event sent to the owner except virtual interrupts.
     *
     * @return the count.
     */
    public long raisedByHypervisor()
    {
        return (long)RAISED_BY_HYPERVISOR.getVolatile(this);
    }

    /**
     * Closes every port of the owner as it dies: interdomain peers go back to unbound for the owner, so their sends
     * are dropped from now on (the owner can never bind again); handlers are dropped, and the event loop stops. A
     * handler the loop had already picked up may still finish; it gets ESRCH from any hypercall. Called by the
     * hypervisor while the owner is {@code DYING}; later calls do nothing.
     */
    public void closeAll()
    {
        synchronized (lock)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        for (int port = RESERVED_PORT + 1; port < MAX_PORTS; port++)
        {
            PortBinding binding = binding(port);
            while (PortState.FREE != binding.state && !tryClose(port, binding, CLOSE))
            {
                binding = binding(port);
            }
        }
        loop.stop();
    }

    /**
     * {@inheritDoc}
     */
    @Override
    public String toString()
    {
        return "EventChannels{domain=" + domainId + '}';
    }

    int allocateUnbound(final int remoteDomainId)
    {
        synchronized (lock)
        {
            checkOpen(ALLOC_UNBOUND);
            final int port = allocatePort(ALLOC_UNBOUND);
            store(port, PortBinding.unbound(remoteDomainId));
            return port;
        }
    }

    int bindInterdomain(final EventChannels remote, final int remotePort)
    {
        if (remotePort <= RESERVED_PORT || remotePort >= MAX_PORTS)
        {
            throw outOfRange(BIND_INTERDOMAIN, remote.domainId, remotePort);
        }
        synchronized (firstLock(this, remote))
        {
            synchronized (secondLock(this, remote))
            {
                checkOpen(BIND_INTERDOMAIN);
                if (remote.closed)
                {
                    throw new HypercallException(Errno.ESRCH, BIND_INTERDOMAIN + ": domain " + domainId +
                        " named no live domain " + remote.domainId);
                }
                final PortBinding remoteBinding = remote.ports[remotePort];
                if (PortState.UNBOUND != remoteBinding.state || domainId != remoteBinding.remoteDomainId)
                {
                    throw new HypercallException(Errno.EINVAL, BIND_INTERDOMAIN + ": domain " + remote.domainId +
                        " port " + remotePort + " is " + remoteBinding.describe() + " (expected: unbound for domain " +
                        domainId + ")");
                }
                final int port = allocatePort(BIND_INTERDOMAIN);
                store(port, PortBinding.interdomain(remote, remotePort));
                remote.store(remotePort, PortBinding.interdomain(this, port));
                raise(port);
                return port;
            }
        }
    }

    /**
     * The send hot path: one acquire read of the binding, then the remote's {@link #raise(int)}.
     */
    int bindVirq(final int virq)
    {
        if (virq < 0 || virq >= NR_VIRQS)
        {
            throw new HypercallException(Errno.EINVAL, BIND_VIRQ + ": domain " + domainId + " virq " + virq +
                " out of range (expected 0.." + (NR_VIRQS - 1) + ")");
        }
        synchronized (lock)
        {
            checkOpen(BIND_VIRQ);
            if (0 != virqPorts[virq])
            {
                throw new HypercallException(Errno.EEXIST, BIND_VIRQ + ": domain " + domainId + " virq " + virq +
                    " is already bound to port " + virqPorts[virq]);
            }
            final int port = allocatePort(BIND_VIRQ);
            store(port, PortBinding.virq(virq));
            // volatile store: raiseVirq finds the port from now on
            VIRQ_PORT.setVolatile(virqPorts, virq, port);
            return port;
        }
    }

    void send(final int port)
    {
        checkPort(port, SEND);
        // acquire: the binding is immutable and published with release, so its fields are whole
        final PortBinding binding = (PortBinding)PORT.getAcquire(ports, port);
        final EventChannels remote = binding.remote;
        if (null != remote)
        {
            remote.raise(binding.remotePort);
        }
        else if (PortState.UNBOUND != binding.state)
        {
            throw new HypercallException(Errno.EINVAL, SEND + ": domain " + domainId + " port " + port + " is " +
                binding.describe());
        }
    }

    void close(final int port)
    {
        checkPort(port, CLOSE);
        PortBinding binding = binding(port);
        while (!tryClose(port, binding, CLOSE))
        {
            binding = binding(port);
        }
        loop.awaitHandlerExit();
    }

    void unmask(final int port)
    {
        checkPort(port, UNMASK);
        final long[] words = this.words;
        final int word = portWord(port);
        final long bit = portBit(port);
        // volatile read-modify-write, then a volatile read of pending: with raise's set-pending-then-read-mask, at
        // least one of the two sees the other, so an event that came in while masked is delivered exactly here
        if (0 != ((long)WORD.getAndBitwiseAnd(words, maskIndex(word), ~bit) & bit) &&
            0 != ((long)WORD.getVolatile(words, pendingIndex(word)) & bit))
        {
            deliver(word);
        }
    }

    EventChannelStatus status(final int port)
    {
        checkPort(port, STATUS);
        return binding(port).status();
    }

    /**
     * Sets {@code port} of this domain pending and, on a 0&rarr;1 edge of an unmasked port, delivers it. Lock-free
     * and allocation-free; called on the sender's thread.
     */
    void raise(final int port)
    {
        final long[] words = this.words;
        final int word = portWord(port);
        final long bit = portBit(port);
        final int pendingIndex = pendingIndex(word);
        // full fence (StoreLoad), as Xen's hypercall is a full barrier: the caller's earlier writes are ordered
        // before the read below, so when it finds the bit set and returns, the loop's later test-and-clear (itself a
        // full fence) and the handler after it see them. Next to the entry's locked increment it costs ~1.5 ns.
        VarHandle.fullFence();
        // volatile read, before any write: a bit already set means the loop has yet to test-and-clear it and will
        // run the handler after that, so the send coalesces at the cost of one read
        if (0 != ((long)WORD.getVolatile(words, pendingIndex) & bit))
        {
            return;
        }
        // volatile read-modify-write: of racing senders, exactly one sees the 0->1 edge and goes on to deliver
        if (0 != ((long)WORD.getAndBitwiseOr(words, pendingIndex, bit) & bit))
        {
            return;
        }
        // volatile read after the pending RMW: pairs with unmask's clear-mask-then-read-pending (Dekker), so an
        // event raised while masked is delivered by whichever of the two sees the other
        if (0 != ((long)WORD.getVolatile(words, maskIndex(word)) & bit))
        {
            // volatile read: a vCPU in SCHEDOP_poll wakes for masked ports too, as Xen's evtchn_set_pending does
            final UpcallListener poller = pollListener;
            if (null != poller)
            {
                poller.onUpcall();
            }
            return;
        }
        deliver(word);
    }

    /**
     * Marks {@code word} in vCPU 0's selector, raises the upcall and wakes the loop, each only on a 0&rarr;1 edge, as
     * Xen's {@code evtchn_2l_set_pending} and {@code vcpu_mark_events_pending}.
     */
    private void deliver(final int word)
    {
        final long[] words = this.words;
        final long wordBit = 1L << word;
        // volatile RMW: a bit already set was set by a sender that has yet to raise the upcall or already did; the
        // loop exchanges the selector only after clearing the upcall, so that exchange comes after our pending bit
        if (0 != ((long)WORD.getAndBitwiseOr(words, SELECTOR_INDEX, wordBit) & wordBit))
        {
            return;
        }
        // volatile RMW: an upcall already pending has not been taken by the loop, which scans after clearing it;
        // whoever made it 0->1 wakes the loop
        if (0 != ((long)WORD.getAndBitwiseOr(words, UPCALL_INDEX, UPCALL_PENDING) & UPCALL_PENDING))
        {
            return;
        }
        loop.kick();
    }

    /**
     * Closes {@code port} if it is still bound as {@code binding}, under the locks of both ends.
     *
     * @return false if the binding changed before the locks were held (a peer closed or died), so the caller
     * re-reads it and tries again.
     */
    private boolean tryClose(final int port, final PortBinding binding, final String call)
    {
        final EventChannels remote = binding.remote;
        final EventChannels peer = null == remote ? this : remote;
        synchronized (firstLock(this, peer))
        {
            synchronized (secondLock(this, peer))
            {
                if (ports[port] != binding)
                {
                    return false;
                }
                if (PortState.FREE == binding.state)
                {
                    throw new HypercallException(Errno.EINVAL, call + ": domain " + domainId + " port " + port +
                        " is free");
                }
                free(port);
                if (PortState.VIRQ == binding.state)
                {
                    VIRQ_PORT.setVolatile(virqPorts, binding.remotePort, 0);
                }
                if (null != remote)
                {
                    remote.store(binding.remotePort, PortBinding.unbound(domainId));
                }
                return true;
            }
        }
    }

    /**
     * The lowest free port, with its pending and mask bits cleared. Caller holds {@link #lock}.
     */
    private int allocatePort(final String call)
    {
        final PortBinding[] ports = this.ports;
        for (int port = RESERVED_PORT + 1; port < MAX_PORTS; port++)
        {
            if (PortState.FREE == ports[port].state)
            {
                final long[] words = this.words;
                final int word = portWord(port);
                final long bit = portBit(port);
                // volatile RMWs: other ports of the word stay as they are
                WORD.getAndBitwiseAnd(words, pendingIndex(word), ~bit);
                WORD.getAndBitwiseAnd(words, maskIndex(word), ~bit);
                return port;
            }
        }
        throw new HypercallException(Errno.ENOSPC, call + ": domain " + domainId + " has no free port (all " +
            (MAX_PORTS - 1) + " in use)");
    }

    /**
     * Frees a port: binding, handler and any undelivered event. Caller holds {@link #lock}.
     */
    private void free(final int port)
    {
        store(port, PortBinding.FREE);
        // volatile store, then close's read of the loop's pass marker (awaitHandlerExit): see DomainEventLoop
        HANDLER.setVolatile(handlers, port, null);
        // volatile RMW: drops an event not yet taken, leaving the other ports of the word alone
        WORD.getAndBitwiseAnd(words, pendingIndex(portWord(port)), ~portBit(port));
    }

    /**
     * Publishes a port's new binding. Caller holds this domain's {@link #lock}.
     */
    private void store(final int port, final PortBinding binding)
    {
        // release: a sender's acquire read sees the whole binding
        PORT.setRelease(ports, port, binding);
    }

    PortBinding binding(final int port)
    {
        // acquire: pairs with store's release
        return (PortBinding)PORT.getAcquire(ports, port);
    }

    PortState portState(final int port)
    {
        return binding(port).state;
    }

    EventHandler handler(final int port)
    {
        // volatile read: a live view for tests
        return (EventHandler)HANDLER.getVolatile(handlers, port);
    }

    private void checkOpen(final String call)
    {
        if (closed)
        {
            throw new HypercallException(Errno.ESRCH, call + ": domain " + domainId + " is dying");
        }
    }

    private void checkPort(final int port, final String call)
    {
        if (port <= RESERVED_PORT || port >= MAX_PORTS)
        {
            throw outOfRange(call, domainId, port);
        }
    }

    private void checkGuestPort(final int port)
    {
        if (port <= RESERVED_PORT || port >= MAX_PORTS)
        {
            throw new IllegalArgumentException("domain " + domainId + " port out of range: port=" + port +
                " (expected: 0 < port < " + MAX_PORTS + ")");
        }
    }

    private static HypercallException outOfRange(final String call, final int domainId, final int port)
    {
        return new HypercallException(Errno.EINVAL, call + ": domain " + domainId + " port " + port +
            " out of range (expected: 0 < port < " + MAX_PORTS + ")");
    }

    private static Object firstLock(final EventChannels a, final EventChannels b)
    {
        return a.domainId <= b.domainId ? a.lock : b.lock;
    }

    private static Object secondLock(final EventChannels a, final EventChannels b)
    {
        return a.domainId <= b.domainId ? b.lock : a.lock;
    }
}
