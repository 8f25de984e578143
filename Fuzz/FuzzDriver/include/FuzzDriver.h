#ifndef SWITCHBOARD_FUZZ_DRIVER_H
#define SWITCHBOARD_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with `test` as the target. SwiftPM names a debug or release executable's
/// entry point MODULE_main, so each fuzz target defines that and calls this, instead of
/// taking libFuzzer's own main.
int switchboard_fuzz_main(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));

#endif
