/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* The example client (client.c) and what it needs from the system it runs on. */
#ifndef TERN_EXAMPLE_H
#define TERN_EXAMPLE_H

#include <signal.h>
#include <stdint.h>

/** Runs the client with tern-client's options (see client.c); returns the exit status. */
int example_run(int argc, char **argv);

/** Monotonic milliseconds. */
uint64_t example_now_ms(void);

/** Waits until `deadline_ms` at most; may return earlier (a datagram came, a signal). */
void example_wait_until(uint64_t deadline_ms);

/** Set to de-register and leave. */
extern volatile sig_atomic_t example_stop_requested;

#endif
