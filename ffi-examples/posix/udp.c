/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * UDP connections for tern: one connected, non-blocking socket per server, IPv4 or IPv6,
 * host names resolved with getaddrinfo.
 */
#define _POSIX_C_SOURCE 200809L

#include "udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One per server, and one for a firmware package download. */
#define MAX_CONNECTIONS (TERN_MAX_SERVERS + 1)

struct udp_conn {
	int fd; /* -1 when the slot is free */
};

static struct udp_conn conns[MAX_CONNECTIONS] = {{-1}};
static int conns_ready;

static void conns_init(void)
{
	if (!conns_ready) {
		for (size_t i = 0; i < MAX_CONNECTIONS; i++) {
			conns[i].fd = -1;
		}
		conns_ready = 1;
	}
}

/*
 * Splits "coap://host:port" (host may be "[v6]") into host and port strings. "coaps://" is
 * the same socket (default port 5684): the library does the DTLS over it.
 */
static int parse_uri(const char *uri, size_t len, char *host, size_t host_cap, char *port, size_t port_cap)
{
	static const char scheme[] = "coap://";
	static const char secure_scheme[] = "coaps://";
	size_t slen = sizeof(scheme) - 1;
	const char *default_port = "5683";

	if (len > sizeof(secure_scheme) - 1 && strncmp(uri, secure_scheme, sizeof(secure_scheme) - 1) == 0) {
		slen = sizeof(secure_scheme) - 1;
		default_port = "5684";
	} else if (len <= slen || strncmp(uri, scheme, slen) != 0) {
		return -1;
	}
	const char *p = uri + slen;
	const char *end = uri + len;
	const char *host_start = p;
	const char *host_end;

	if (*p == '[') {
		host_start = ++p;
		while (p < end && *p != ']') {
			p++;
		}
		if (p == end) {
			return -1;
		}
		host_end = p++;
	} else {
		while (p < end && *p != ':' && *p != '/') {
			p++;
		}
		host_end = p;
	}
	size_t hlen = (size_t)(host_end - host_start);
	if (hlen == 0 || hlen >= host_cap) {
		return -1;
	}
	memcpy(host, host_start, hlen);
	host[hlen] = '\0';

	if (p < end && *p == ':') {
		const char *port_start = ++p;
		while (p < end && *p != '/') {
			p++;
		}
		size_t plen = (size_t)(p - port_start);
		if (plen == 0 || plen >= port_cap) {
			return -1;
		}
		memcpy(port, port_start, plen);
		port[plen] = '\0';
	} else {
		snprintf(port, port_cap, "%s", default_port);
	}
	return 0;
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = {0};
	struct addrinfo *res = NULL;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "udp: cannot resolve %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0) {
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

tern_status_t udp_open(void *user, const char *uri, size_t uri_len, uint16_t security_instance, void **connection)
{
	char host[256];
	char port[16];

	(void)user;
	(void)security_instance;
	conns_init();
	if (parse_uri(uri, uri_len, host, sizeof(host), port, sizeof(port)) != 0) {
		fprintf(stderr, "udp: unsupported server URI %.*s\n", (int)uri_len, uri);
		return TERN_STATUS_INVALID_ARG;
	}
	for (size_t i = 0; i < MAX_CONNECTIONS; i++) {
		if (conns[i].fd < 0) {
			int fd = connect_to(host, port);
			if (fd < 0) {
				return TERN_STATUS_IO;
			}
			conns[i].fd = fd;
			*connection = &conns[i];
			return TERN_STATUS_OK;
		}
	}
	return TERN_STATUS_NO_SPACE;
}

tern_status_t udp_send(void *user, void *connection, const uint8_t *data, size_t len)
{
	struct udp_conn *c = connection;

	(void)user;
	if (send(c->fd, data, len, 0) < 0) {
		/* Lost datagrams are normal for UDP: the engine retransmits. */
		return TERN_STATUS_IO;
	}
	return TERN_STATUS_OK;
}

tern_status_t udp_recv(void *user, void *connection, uint8_t *buffer, size_t capacity, size_t *len)
{
	struct udp_conn *c = connection;

	(void)user;
	for (;;) {
		/* MSG_TRUNC makes recv report the real size, so oversized datagrams are dropped. */
		ssize_t n = recv(c->fd, buffer, capacity, MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			/* EAGAIN, or an ICMP error (ECONNREFUSED) from a server not yet up. */
			return TERN_STATUS_WOULD_BLOCK;
		}
		if ((size_t)n > capacity) {
			continue;
		}
		*len = (size_t)n;
		return TERN_STATUS_OK;
	}
}

void udp_close(void *user, void *connection)
{
	struct udp_conn *c = connection;

	(void)user;
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

int udp_fd(void *connection)
{
	return ((struct udp_conn *)connection)->fd;
}

size_t udp_poll_fds(struct pollfd *fds, size_t max)
{
	size_t n = 0;

	conns_init();
	for (size_t i = 0; i < MAX_CONNECTIONS && n < max; i++) {
		if (conns[i].fd >= 0) {
			fds[n].fd = conns[i].fd;
			fds[n].events = POLLIN;
			fds[n].revents = 0;
			n++;
		}
	}
	return n;
}
