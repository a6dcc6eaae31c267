/**
 * The bench module: the top of the pvio stack, which assembles machines, domains, drivers and rings from every other
 * module and measures them.
 * <p>
 * This is the place for the JMH suites that put the pvio ring beside Agrona and JCTools in one run, latency
 * percentiles recorded with HdrHistogram, end-to-end scenarios that compare full and para virtualization, and the
 * {@code pvio} command line ({@link io.pvio.bench.cli.PvioCommand}). Reports keep measured time and modeled cycles
 * apart and always say which is which.
 * <p>
 * The module is packaged as one shaded jar, {@code bench/target/benchmarks.jar}, whose main class is JMH's
 * {@code org.openjdk.jmh.Main}; the command line runs from the same jar with
 * {@code java -cp benchmarks.jar io.pvio.bench.cli.PvioCommand}.
 */
package io.pvio.bench;
