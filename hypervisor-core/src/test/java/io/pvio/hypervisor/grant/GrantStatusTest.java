package io.pvio.hypervisor.grant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class GrantStatusTest
{
    @Test
    void shouldUseXenValuesForEveryStatus()
    {
        assertEquals(0, GrantStatus.OKAY);
        assertEquals(-1, GrantStatus.GENERAL_ERROR);
        assertEquals(-2, GrantStatus.BAD_DOMAIN);
        assertEquals(-3, GrantStatus.BAD_GNTREF);
        assertEquals(-4, GrantStatus.BAD_HANDLE);
        assertEquals(-5, GrantStatus.BAD_VIRT_ADDR);
        assertEquals(-6, GrantStatus.BAD_DEV_ADDR);
        assertEquals(-7, GrantStatus.NO_DEVICE_SPACE);
        assertEquals(-8, GrantStatus.PERMISSION_DENIED);
        assertEquals(-9, GrantStatus.BAD_PAGE);
        assertEquals(-10, GrantStatus.BAD_COPY_ARG);
        assertEquals(-11, GrantStatus.ADDRESS_TOO_BIG);
        assertEquals(-12, GrantStatus.EAGAIN);
        assertEquals(-13, GrantStatus.NO_SPACE);
    }

    @Test
    void shouldNameEveryStatusDistinctly()
    {
        final Set<String> names = new HashSet<>();
        final Set<String> messages = new HashSet<>();
        for (int status = 0; status >= GrantStatus.NO_SPACE; status--)
        {
            names.add(GrantStatus.name(status));
            messages.add(GrantStatus.message(status));
        }
        assertEquals(14, names.size());
        assertEquals(14, messages.size());
        assertEquals("GNTST_okay", GrantStatus.name(GrantStatus.OKAY));
        assertEquals("GNTST_permission_denied", GrantStatus.name(GrantStatus.PERMISSION_DENIED));
        assertEquals("GNTST_no_space", GrantStatus.name(GrantStatus.NO_SPACE));
    }

    @Test
    void shouldNameUnknownStatusWithItsValue()
    {
        assertEquals("GNTST_unknown(-14)", GrantStatus.name(-14));
        assertEquals("GNTST_unknown(1)", GrantStatus.name(1));
        assertEquals("unknown status 7", GrantStatus.message(7));
    }
}
