/**
 * The {@code pvio} command line: picocli commands that parse and validate their arguments, then hand a validated
 * options object to the code that does the work.
 * <p>
 * Exit codes: {@code 0} on success, {@code 1} when the work fails or the JVM lacks a flag that Agrona needs
 * ({@link io.pvio.bench.cli.AgronaAccess}), {@code 2} when the arguments are wrong. Every argument error names the
 * option and the value that was rejected.
 */
package io.pvio.bench.cli;
