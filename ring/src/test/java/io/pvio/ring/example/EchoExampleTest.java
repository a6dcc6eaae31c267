package io.pvio.ring.example;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class EchoExampleTest
{
    @Test
    void shouldAnswerEveryRequestWithItsDouble()
    {
        final long count = 200_000;
        final long sum = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> EchoExample.run(count));
        assertEquals(count * (count - 1), sum, "sum of 2i for i < count");
    }
}
