/**
 * netfront: a guest's virtual network interface, the front end of Xen's network split driver
 * ({@link io.pvio.frontend.net.NetFront}).
 */
package io.pvio.frontend.net;
