package io.pvio.hypervisor.xenstore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class XenStorePathTest
{
    @Test
    void shouldResolveRelativePathUnderDomainPath()
    {
        assertEquals("/local/domain/7/device/vbd/51712/state", XenStorePath.resolve(7, "device/vbd/51712/state"));
        assertEquals("/local/domain/7", XenStorePath.domainPath(7));
    }

    @Test
    void shouldKeepAbsolutePathAsGiven()
    {
        assertEquals("/local/domain/0/backend", XenStorePath.resolve(3, "/local/domain/0/backend"));
        assertEquals("/", XenStorePath.resolve(3, "/"));
    }

    @Test
    void shouldAcceptEveryAllowedCharacter()
    {
        assertEquals("/aZ09-_@", XenStorePath.resolve(0, "/aZ09-_@"));
        assertEquals("/local/domain/1/@x", XenStorePath.resolve(1, "@x"), "outside watches @ is just a character");
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "/a//b", "//", "/a/", "a/", "/a b", "/a.b", "/a\u0000b", "/caf\u00e9", "a\\b", "/a*" })
    void shouldRejectMalformedPathWithEinval(final String path)
    {
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> XenStorePath.resolve(1, path));
        assertEquals(XsError.EINVAL, ex.error());
        assertTrue(ex.getMessage().startsWith("EINVAL: invalid path: "), ex.getMessage());
        assertTrue(ex.getMessage().contains("domain=1"), ex.getMessage());
    }

    @Test
    void shouldRejectNullPath()
    {
        final XenStoreException ex = assertThrows(XenStoreException.class, () -> XenStorePath.resolve(1, null));
        assertEquals(XsError.EINVAL, ex.error());
    }

    @Test
    void shouldAcceptAbsolutePathAtLimitAndRejectOneMore()
    {
        final String atLimit = "/" + "a".repeat(XenStorePath.MAX_ABSOLUTE_LENGTH - 1);
        assertEquals(atLimit, XenStorePath.resolve(0, atLimit));

        final XenStoreException ex =
            assertThrows(XenStoreException.class, () -> XenStorePath.resolve(0, atLimit + "b"));
        assertEquals(XsError.EINVAL, ex.error());
        assertTrue(ex.getMessage().contains("absolute path longer than 3072 bytes: length=3073"), ex.getMessage());
        assertTrue(ex.getMessage().contains("...(length=3073)"), "long paths are shortened: " + ex.getMessage());
    }

    @Test
    void shouldAcceptRelativePathAtLimitAndRejectOneMore()
    {
        final String atLimit = "a".repeat(XenStorePath.MAX_RELATIVE_LENGTH);
        assertEquals("/local/domain/2/" + atLimit, XenStorePath.resolve(2, atLimit));

        final XenStoreException ex =
            assertThrows(XenStoreException.class, () -> XenStorePath.resolve(2, atLimit + "b"));
        assertTrue(ex.getMessage().contains("relative path longer than 2048 bytes: length=2049"), ex.getMessage());
    }

    @Test
    void shouldAcceptOnlyKnownSpecialWatchPaths()
    {
        assertEquals("@introduceDomain", XenStorePath.resolveWatch(0, "@introduceDomain"));
        assertEquals("@releaseDomain", XenStorePath.resolveWatch(5, "@releaseDomain"));
        assertEquals("/local/domain/5/a", XenStorePath.resolveWatch(5, "a"));
        final XenStoreException ex =
            assertThrows(XenStoreException.class, () -> XenStorePath.resolveWatch(5, "@other"));
        assertEquals(XsError.EINVAL, ex.error());
        assertThrows(XenStoreException.class, () -> XenStorePath.resolve(5, "/@introduceDomain/"));
    }

    @Test
    void shouldComputeParentsAndComponents()
    {
        assertNull(XenStorePath.parent("/"));
        assertEquals("/", XenStorePath.parent("/local"));
        assertEquals("/local", XenStorePath.parent("/local/domain"));
        assertArrayEquals(new String[0], XenStorePath.components("/"));
        assertArrayEquals(new String[] { "local", "domain", "3" }, XenStorePath.components("/local/domain/3"));
        assertEquals("/a", XenStorePath.child("/", "a"));
        assertEquals("/a/b", XenStorePath.child("/a", "b"));
    }

    @Test
    void shouldMatchDescendantsOnComponentBoundariesOnly()
    {
        assertTrue(XenStorePath.isAtOrBelow("/a/b", "/a"));
        assertTrue(XenStorePath.isAtOrBelow("/a", "/a"));
        assertTrue(XenStorePath.isAtOrBelow("/a", "/"));
        assertFalse(XenStorePath.isAtOrBelow("/ab", "/a"));
        assertFalse(XenStorePath.isAtOrBelow("/a", "/a/b"));
    }
}
