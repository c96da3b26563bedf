/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The example client as a POSIX process: time from CLOCK_MONOTONIC, waiting in poll() on
 * the client's sockets, SIGINT/SIGTERM to de-register and leave. Options: see client.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "example.h"
#include "tern.h"
#include "udp.h"

#define MAX_WAIT_MS 1000u

volatile sig_atomic_t example_stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	example_stop_requested = 1;
}

uint64_t example_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleeps until a socket is readable or `deadline` (monotonic ms) passes. */
void example_wait_until(uint64_t deadline)
{
	struct pollfd fds[TERN_MAX_SERVERS + 1];
	uint64_t now = example_now_ms();
	uint64_t wait = deadline > now ? deadline - now : 0;

	if (wait > MAX_WAIT_MS) {
		wait = MAX_WAIT_MS;
	}
	size_t n = udp_poll_fds(fds, TERN_MAX_SERVERS + 1);
	if (poll(fds, n, (int)wait) < 0 && errno != EINTR) {
		perror("poll");
	}
}

int main(int argc, char **argv)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	return example_run(argc, argv);
}
