package io.pvio.hypervisor.xenstore;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XsPermissionsTest
{
    @Test
    void shouldGiveOwnerEverythingWhateverItsLetter()
    {
        final XsPermissions permissions = XsPermissions.parse("n5");
        assertEquals(5, permissions.owner());
        assertEquals(XsAccess.NONE, permissions.defaultAccess());
        assertTrue(permissions.canRead(5));
        assertTrue(permissions.canWrite(5));
    }

    @Test
    void shouldGiveDomain0EverythingEvenWhenListedWithNone()
    {
        final XsPermissions permissions = XsPermissions.parse("n5", "n0");
        assertEquals(XsAccess.BOTH, permissions.accessFor(0));
    }

    @Test
    void shouldUseOwnerLetterAsDefaultForUnlistedDomains()
    {
        assertEquals(XsAccess.READ, XsPermissions.parse("r5").accessFor(9));
        assertEquals(XsAccess.NONE, XsPermissions.parse("n5").accessFor(9));
        assertEquals(XsAccess.WRITE, XsPermissions.parse("w5").accessFor(9));
        assertEquals(XsAccess.BOTH, XsPermissions.parse("b5").accessFor(9));
    }

    @Test
    void shouldUseFirstListedEntryForAListedDomain()
    {
        final XsPermissions permissions = XsPermissions.parse("n5", "r7", "b7", "w8");
        assertEquals(XsAccess.READ, permissions.accessFor(7));
        assertEquals(XsAccess.WRITE, permissions.accessFor(8));
        assertFalse(permissions.canRead(8));
        assertEquals(XsAccess.NONE, permissions.accessFor(9));
    }

    @Test
    void shouldRoundTripStrings()
    {
        final XsPermissions permissions = XsPermissions.parse("n5", "r0", "b65535");
        assertEquals(List.of("n5", "r0", "b65535"), permissions.toStrings());
        assertEquals("n5,r0,b65535", permissions.toString());
        assertEquals(3 + 3 + 7, permissions.encodedLength());
        assertEquals(permissions, XsPermissions.parse(permissions.toStrings()));
        assertEquals(permissions.hashCode(), XsPermissions.parse(permissions.toStrings()).hashCode());
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "x5", "r", "r-1", "r+1", "r65536", "r05", "R5", "r5 ", "r1a", "r999999" })
    void shouldRejectMalformedEntryWithEinval(final String entry)
    {
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> XsPermissions.parse("n1", entry));
        assertEquals(XsError.EINVAL, ex.error());
        assertTrue(ex.getMessage().contains("malformed permission entry: index=1"), ex.getMessage());
    }

    @Test
    void shouldRejectEmptyList()
    {
        assertEquals(XsError.EINVAL, assertThrows(XenStoreException.class, () -> XsPermissions.parse()).error());
    }

    @Test
    void shouldReplaceOrAppendEntries()
    {
        final XsPermissions base = XsPermissions.of(5, XsAccess.NONE);
        final XsPermissions granted = base.with(7, XsAccess.READ);
        assertEquals("n5,r7", granted.toString());
        assertEquals("n5,b7", granted.with(7, XsAccess.BOTH).toString());
        assertEquals("n9,r7", granted.withOwner(9).toString());
        assertSame(granted, granted.withOwner(5));
        assertNotEquals(base, granted);
        assertThrows(IllegalArgumentException.class, () -> base.with(0x10000, XsAccess.READ));
    }
}
