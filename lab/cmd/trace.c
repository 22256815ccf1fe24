/* cmd/trace.c - placeholder. */
#include "cmd/cmd.h"

void trace_register(void) {
}
