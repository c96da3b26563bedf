/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* Non-blocking UDP connections for the tern platform callbacks. */
#ifndef TERN_EXAMPLE_UDP_H
#define TERN_EXAMPLE_UDP_H

#include <stddef.h>
#include <poll.h>

#include "tern.h"

/** Platform callbacks over BSD sockets; `user` is unused. */
tern_status_t udp_open(void *user, const char *uri, size_t uri_len, uint16_t security_instance, void **connection);
tern_status_t udp_send(void *user, void *connection, const uint8_t *data, size_t len);
tern_status_t udp_recv(void *user, void *connection, uint8_t *buffer, size_t capacity, size_t *len);
void udp_close(void *user, void *connection);

/** The socket of a connection (for a platform that secures it: platform_dtls.c). */
int udp_fd(void *connection);

/** Fills `fds` with the open sockets (at most `max`); returns how many. */
size_t udp_poll_fds(struct pollfd *fds, size_t max);

#endif
