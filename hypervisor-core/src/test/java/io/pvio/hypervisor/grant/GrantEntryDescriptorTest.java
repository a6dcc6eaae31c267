package io.pvio.hypervisor.grant;

import static io.pvio.hypervisor.grant.GrantEntryDescriptor.DOMID_OFFSET;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.FLAGS_OFFSET;
import static io.pvio.hypervisor.grant.GrantEntryDescriptor.FRAME_OFFSET;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class GrantEntryDescriptorTest
{
    @Test
    void shouldFit512EightByteEntriesInOneFrame()
    {
        assertEquals(8, GrantEntryDescriptor.ENTRY_LENGTH);
        assertEquals(512, GrantEntryDescriptor.ENTRIES_PER_FRAME);
        assertEquals(1 << GrantEntryDescriptor.ENTRIES_PER_FRAME_SHIFT, GrantEntryDescriptor.ENTRIES_PER_FRAME);
        assertEquals(0, FLAGS_OFFSET);
        assertEquals(2, DOMID_OFFSET);
        assertEquals(4, FRAME_OFFSET);
    }

    @Test
    void shouldLocateEntryWhenRefCrossesFrames()
    {
        assertEquals(0, GrantEntryDescriptor.frameIndex(511));
        assertEquals(511 * 8, GrantEntryDescriptor.entryOffset(511));
        assertEquals(1, GrantEntryDescriptor.frameIndex(512));
        assertEquals(0, GrantEntryDescriptor.entryOffset(512));
        assertEquals(1, GrantEntryDescriptor.frameIndex(513));
        assertEquals(8, GrantEntryDescriptor.entryOffset(513));
        assertEquals(31, GrantEntryDescriptor.frameIndex(16383));
    }

    @Test
    void shouldMatchXenFlagValues()
    {
        assertEquals(0, GrantEntryDescriptor.GTF_INVALID);
        assertEquals(1, GrantEntryDescriptor.GTF_PERMIT_ACCESS);
        assertEquals(2, GrantEntryDescriptor.GTF_ACCEPT_TRANSFER);
        assertEquals(3, GrantEntryDescriptor.GTF_TRANSITIVE);
        assertEquals(3, GrantEntryDescriptor.GTF_TYPE_MASK);
        assertEquals(0x04, GrantEntryDescriptor.GTF_READONLY);
        assertEquals(0x08, GrantEntryDescriptor.GTF_READING);
        assertEquals(0x10, GrantEntryDescriptor.GTF_WRITING);
        assertEquals(0x20, GrantEntryDescriptor.GTF_PWT);
        assertEquals(0x40, GrantEntryDescriptor.GTF_PCD);
        assertEquals(0x80, GrantEntryDescriptor.GTF_PAT);
        assertEquals(0x100, GrantEntryDescriptor.GTF_SUB_PAGE);
        assertEquals(8, GrantEntryDescriptor.NR_RESERVED_ENTRIES);
        assertEquals(0, GrantEntryDescriptor.RESERVED_CONSOLE);
        assertEquals(1, GrantEntryDescriptor.RESERVED_XENSTORE);
    }

    @Test
    void shouldReadFlagsAndDomidAsOneLittleEndianWord()
    {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putShort(FLAGS_OFFSET, (short)0x0019);
        bytes.putShort(DOMID_OFFSET, (short)0x7FEF);
        bytes.putInt(FRAME_OFFSET, 0xCAFE_F00D);
        final UnsafeBuffer entry = new UnsafeBuffer(bytes);

        final int word = entry.getIntVolatile(FLAGS_OFFSET);

        assertEquals(GrantEntryDescriptor.flagsDomidWord(0x0019, 0x7FEF), word);
        assertEquals(0x0019, GrantEntryDescriptor.flags(word));
        assertEquals(0x7FEF, GrantEntryDescriptor.domid(word));
        assertEquals(0xCAFE_F00D, entry.getInt(FRAME_OFFSET));
    }
}
