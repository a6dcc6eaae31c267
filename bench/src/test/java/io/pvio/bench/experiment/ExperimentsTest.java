package io.pvio.bench.experiment;

import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every experiment, short run: each check of its qualitative result must pass, so a regression in the paging modes,
 * the balloon, swapping, sharing, the scheduler or the sampler fails the build.
 */
class ExperimentsTest
{
    @TestFactory
    Stream<DynamicTest> everyExperimentReproducesItsQualitativeResult()
    {
        return Experiments.all().stream().map((experiment) -> DynamicTest.dynamicTest(experiment.name(), () ->
        {
            final ExperimentResult result = Experiments.run(experiment, new ExperimentContext(7, 0.25, null));
            assertFalse(result.checks().isEmpty(), experiment.name() + " checks something");
            assertFalse(result.rows().isEmpty());
            for (final ExperimentResult.Check check : result.checks())
            {
                assertTrue(check.passed(), experiment.name() + ": " + check.claim() + " (" + check.detail() + ")");
            }
        }));
    }
}
