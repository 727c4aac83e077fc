/*
 * The virtio-net fuzzer's stand-in for the tap (fuzz_net_tap.c): the
 * network's end of the socketpair the plugin uses as its tap.
 */
#ifndef MODVMM_TESTS_FUZZ_NET_TAP_H
#define MODVMM_TESTS_FUZZ_NET_TAP_H

extern int fuzz_net_peer;

#endif
