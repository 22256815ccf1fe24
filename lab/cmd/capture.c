/* cmd/capture.c - placeholder. */
#include "cmd/cmd.h"

void capture_register(void) {
}
