/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The fake platform the C tests drive a client with: one connection, and every datagram
 * the client sends kept (`last`, and `first` since `sends` was last set to 0). The random
 * source gives FAKE_RANDOM_BYTE, which a test may define before including this header.
 */
#ifndef TERN_TEST_FAKE_PLATFORM_H
#define TERN_TEST_FAKE_PLATFORM_H

#include <string.h>

#include "tern.h"

#ifndef FAKE_RANDOM_BYTE
#define FAKE_RANDOM_BYTE 0x21
#endif

static int connection;
static uint8_t last[512], first[512];
static size_t last_len;
static unsigned sends;

static tern_status_t on_open(void *user, const char *uri, size_t len, uint16_t sec, void **conn)
{
	(void)user;
	(void)uri;
	(void)len;
	(void)sec;
	*conn = &connection;
	return TERN_STATUS_OK;
}

static tern_status_t on_send(void *user, void *conn, const uint8_t *data, size_t len)
{
	(void)user;
	(void)conn;
	if (len > sizeof(last)) {
		return TERN_STATUS_IO;
	}
	memcpy(last, data, len);
	last_len = len;
	if (sends == 0) {
		memcpy(first, data, len); /* the first datagram since `sends` was reset */
	}
	sends++;
	return TERN_STATUS_OK;
}

static void on_random(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	memset(buf, FAKE_RANDOM_BYTE, len);
}

#endif
