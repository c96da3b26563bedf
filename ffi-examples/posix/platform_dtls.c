/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * DTLS done by the platform, with OpenSSL (see platform_dtls.h). The UDP socket comes from
 * udp.c, so the example's poll() loop waits on it as on any other.
 */
#define _POSIX_C_SOURCE 200809L

#include "platform_dtls.h"
#include "platform_psk.h"
#include "udp.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* How long `open` may take for a handshake. */
#define HANDSHAKE_MS 10000

struct secure_conn {
	void *udp; /* first (platform_open_udp finds free slots by it); NULL when free */
	SSL *ssl;  /* NULL for a plain coap:// connection */
};

static struct secure_conn conns[PLATFORM_DTLS_CONNECTIONS];
static SSL_CTX *ctx;

static unsigned int psk_callback(SSL *ssl, const char *hint, char *identity, unsigned int max_identity_len,
				 unsigned char *psk, unsigned int max_psk_len)
{
	const struct psk *p = SSL_get_app_data(ssl);
	size_t n = strlen(p->identity);

	(void)hint;
	if (n + 1 > max_identity_len || p->key_len > max_psk_len) {
		return 0;
	}
	memcpy(identity, p->identity, n + 1);
	memcpy(psk, p->key, p->key_len);
	return (unsigned int)p->key_len;
}

static SSL_CTX *context(void)
{
	if (ctx == NULL) {
		ctx = SSL_CTX_new(DTLS_client_method());
		if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
		    SSL_CTX_set_cipher_list(ctx, "PSK-AES128-CCM8") != 1) {
			SSL_CTX_free(ctx);
			ctx = NULL;
			return NULL;
		}
		SSL_CTX_set_psk_client_callback(ctx, psk_callback);
		/* Servers without the renegotiation_info extension (RFC 5746; Californium's
		 * Scandium, under Leshan) are accepted: this client never renegotiates. */
		SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
	}
	return ctx;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The handshake on a connected non-blocking socket, with OpenSSL's retransmission timer. */
static int handshake(SSL *ssl, int fd)
{
	const uint64_t deadline = now_ms() + HANDSHAKE_MS;

	for (;;) {
		int rc = SSL_connect(ssl);
		if (rc == 1) {
			return 0;
		}
		if (SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ) {
			return -1;
		}
		uint64_t now = now_ms();
		if (now >= deadline) {
			return -1;
		}
		struct timeval tv;
		int wait = (int)(deadline - now);
		if (DTLSv1_get_timeout(ssl, &tv) == 1) {
			long t = tv.tv_sec * 1000 + tv.tv_usec / 1000;
			wait = t < wait ? (int)t : wait;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, wait) == 0 && DTLSv1_handle_timeout(ssl) < 0) {
			return -1;
		}
	}
}

static SSL *secure(int fd, const struct psk *p)
{
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);
	SSL_CTX *c = context();
	SSL *ssl = c != NULL ? SSL_new(c) : NULL;
	BIO *bio = BIO_new_dgram(fd, BIO_NOCLOSE);

	if (ssl == NULL || bio == NULL || getpeername(fd, (struct sockaddr *)&peer, &peer_len) != 0) {
		BIO_free(bio);
		SSL_free(ssl);
		return NULL;
	}
	BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &peer);
	SSL_set_bio(ssl, bio, bio);
	SSL_set_app_data(ssl, (void *)p);
	if (handshake(ssl, fd) != 0) {
		fprintf(stderr, "platform dtls: handshake failed\n");
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

tern_status_t platform_dtls_open(void *user, const char *uri, size_t uri_len, uint16_t security_instance,
				 void **connection)
{
	void *free_slot;
	const struct psk *keys;
	tern_status_t st = platform_open_udp(user, uri, uri_len, security_instance, conns, PLATFORM_DTLS_CONNECTIONS,
					     sizeof(conns[0]), &free_slot, &keys);

	if (st != TERN_STATUS_OK) {
		return st;
	}
	struct secure_conn *slot = free_slot;
	slot->ssl = keys != NULL ? secure(udp_fd(slot->udp), keys) : NULL;
	if (keys != NULL && slot->ssl == NULL) {
		udp_close(user, slot->udp);
		slot->udp = NULL;
		return TERN_STATUS_IO;
	}
	*connection = slot;
	return TERN_STATUS_OK;
}

tern_status_t platform_dtls_send(void *user, void *connection, const uint8_t *data, size_t len)
{
	struct secure_conn *c = connection;

	if (c->ssl == NULL) {
		return udp_send(user, c->udp, data, len);
	}
	if (len > (size_t)0x7fffffff || SSL_write(c->ssl, data, (int)len) <= 0) {
		ERR_clear_error();
		return TERN_STATUS_IO;
	}
	return TERN_STATUS_OK;
}

tern_status_t platform_dtls_recv(void *user, void *connection, uint8_t *buffer, size_t capacity, size_t *len)
{
	struct secure_conn *c = connection;

	if (c->ssl == NULL) {
		return udp_recv(user, c->udp, buffer, capacity, len);
	}
	int n = SSL_read(c->ssl, buffer, capacity > (size_t)0x7fffffff ? 0x7fffffff : (int)capacity);
	if (n <= 0) {
		/* Nothing waiting (SSL_ERROR_WANT_READ), or a record that did not authenticate. */
		ERR_clear_error();
		return TERN_STATUS_WOULD_BLOCK;
	}
	*len = (size_t)n;
	return TERN_STATUS_OK;
}

void platform_dtls_close(void *user, void *connection)
{
	struct secure_conn *c = connection;

	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	udp_close(user, c->udp);
	c->udp = NULL;
}
