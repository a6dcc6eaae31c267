/**
 * Scenarios: a machine, its guests, their virtual disks and the workloads they run, read from YAML or JSON, checked
 * whole before anything starts, run on a {@link io.pvio.bench.machine.PvMachine}, and reported beside the same
 * workload run natively on the image.
 */
package io.pvio.bench.scenario;
