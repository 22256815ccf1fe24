/* cmd/bench.c - placeholder. */
#include "cmd/cmd.h"

void bench_register(void) {
}
