/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * DTLS done by the platform, with mbedTLS 2.28 (see platform_dtls.h), as a FreeRTOS device
 * with mbedTLS would do it. The UDP socket comes from udp.c (connected, non-blocking), so the
 * example's wait loop watches it as any other; mbedTLS reads and writes it through the two
 * bio callbacks below and times its retransmissions with the example's clock
 * (example_now_ms: the kernel's tick count under FreeRTOS), never with a blocking call.
 *
 * Memory: the connection slots are static; mbedTLS itself allocates its record buffers and
 * the copy of the pre-shared key (mbedtls_calloc: the C library's heap here; on a device,
 * MBEDTLS_PLATFORM_MEMORY with a static arena, mbedtls_memory_buffer_alloc_init).
 * Entropy: mbedTLS's platform source (getrandom or /dev/urandom here; a device adds its
 * hardware RNG with mbedtls_entropy_add_source).
 */
#define _POSIX_C_SOURCE 200809L

#include "platform_dtls.h"
#include "platform_psk.h"
#include "example.h"
#include "udp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

/* How long `open` may take for a handshake. */
#define HANDSHAKE_MS 10000u

/*
 * mbedTLS's DTLS timer (mbedtls_ssl_set_timer_cb): an intermediate and a final delay from
 * the moment it is set; a final delay of 0 cancels it.
 */
struct dtls_timer {
	uint64_t start_ms;
	uint32_t int_ms;
	uint32_t fin_ms;
};

struct secure_conn {
	void *udp;    /* first (platform_open_udp finds free slots by it); NULL when free */
	bool secured; /* false for a plain coap:// connection */
	mbedtls_ssl_config conf; /* per connection: the PSK lives in the configuration */
	mbedtls_ssl_context ssl;
	struct dtls_timer timer;
};

/* The one cipher suite offered: the one LwM2M names for PSK (Core 1.1, E.1.1). */
static const int ciphersuites[] = {MBEDTLS_TLS_PSK_WITH_AES_128_CCM_8, 0};

static struct secure_conn conns[PLATFORM_DTLS_CONNECTIONS];
/* The random generator every connection shares, seeded at the first handshake. */
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static bool drbg_ready;

/* mbedtls_ssl_set_timer_t: (re)starts the timer, or cancels it with fin_ms 0. */
static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
	struct dtls_timer *t = ctx;

	t->start_ms = example_now_ms();
	t->int_ms = int_ms;
	t->fin_ms = fin_ms;
}

/* mbedtls_ssl_get_timer_t: -1 cancelled, 0 running, 1 intermediate delay passed, 2 final. */
static int timer_get(void *ctx)
{
	const struct dtls_timer *t = ctx;

	if (t->fin_ms == 0) {
		return -1;
	}
	uint64_t elapsed = example_now_ms() - t->start_ms;
	if (elapsed >= t->fin_ms) {
		return 2;
	}
	return elapsed >= t->int_ms ? 1 : 0;
}

/* mbedtls_ssl_send_t over the connected, non-blocking UDP socket. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	int fd = udp_fd(((struct secure_conn *)ctx)->udp);

	for (;;) {
		ssize_t n = send(fd, buf, len, 0);
		if (n >= 0) {
			return (int)n;
		}
		if (errno == EINTR) {
			/* A signal (the FreeRTOS POSIX port's tick): try again. */
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		}
		return MBEDTLS_ERR_NET_SEND_FAILED;
	}
}

/*
 * mbedtls_ssl_recv_t: one datagram, or MBEDTLS_ERR_SSL_WANT_READ when none is waiting.
 * udp_recv retries on EINTR, drops datagrams larger than the buffer, and reports an ICMP
 * error from a server not yet up as "nothing yet" too (the retransmission timer goes on).
 */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	size_t n = 0;

	if (udp_recv(NULL, ((struct secure_conn *)ctx)->udp, buf, len, &n) != TERN_STATUS_OK) {
		return MBEDTLS_ERR_SSL_WANT_READ;
	}
	return (int)n;
}

static int rng_ready(void)
{
	static const unsigned char personal[] = "tern platform dtls";

	if (!drbg_ready) {
		mbedtls_entropy_init(&entropy);
		mbedtls_ctr_drbg_init(&drbg);
		if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, personal, sizeof(personal) - 1) != 0) {
			mbedtls_ctr_drbg_free(&drbg);
			mbedtls_entropy_free(&entropy);
			return -1;
		}
		drbg_ready = true;
	}
	return 0;
}

/*
 * The handshake, without blocking: mbedtls_ssl_handshake goes as far as the datagrams
 * that have arrived allow (retransmitting its last flight when the timer says so), and in
 * between the task waits with the example's own wait (poll() on POSIX, vTaskDelay under
 * FreeRTOS), never past the next retransmission nor the overall deadline.
 */
static int handshake(struct secure_conn *c)
{
	const uint64_t deadline = example_now_ms() + HANDSHAKE_MS;

	for (;;) {
		int rc = mbedtls_ssl_handshake(&c->ssl);
		if (rc == 0) {
			return 0;
		}
		if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
			return rc;
		}
		uint64_t now = example_now_ms();
		if (now >= deadline || example_stop_requested) {
			return MBEDTLS_ERR_SSL_TIMEOUT;
		}
		uint64_t until = deadline;
		if (c->timer.fin_ms != 0) {
			uint64_t next = c->timer.start_ms + (timer_get(&c->timer) >= 1 ? c->timer.fin_ms : c->timer.int_ms);
			until = next < until ? next : until;
		}
		example_wait_until(until);
	}
}

/* Secures the connection with DTLS 1.2 and the key `p`; 0, or an mbedTLS error code. */
static int secure(struct secure_conn *c, const struct psk *p)
{
	int rc;

	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ssl_init(&c->ssl);
	memset(&c->timer, 0, sizeof(c->timer));
	if ((rc = rng_ready()) != 0 ||
	    (rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					      MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		return rc;
	}
	/* DTLS 1.2 only (1.0 is "TLS 1.1" to mbedTLS), with the PSK cipher suite above. */
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&c->conf, ciphersuites);
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &drbg);
	if ((rc = mbedtls_ssl_conf_psk(&c->conf, p->key, p->key_len, (const unsigned char *)p->identity,
				       strlen(p->identity))) != 0 ||
	    (rc = mbedtls_ssl_setup(&c->ssl, &c->conf)) != 0) {
		return rc;
	}
	/* Non-blocking bio (no recv_timeout callback): the timer below paces the retransmissions. */
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	mbedtls_ssl_set_timer_cb(&c->ssl, &c->timer, timer_set, timer_get);
	/* A HelloVerifyRequest's cookie (Scandium sends one) is answered by mbedTLS itself. */
	return handshake(c);
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
	slot->secured = keys != NULL;
	int rc = keys != NULL ? secure(slot, keys) : 0;
	if (rc != 0) {
		/* Mostly MBEDTLS_ERR_SSL_TIMEOUT (-0x6800): a server that drops the Finished of a
		 * wrong key or identity (Scandium) says nothing. */
		fprintf(stderr, "platform dtls: handshake failed (mbedTLS -0x%04x)\n", (unsigned)-rc);
		mbedtls_ssl_free(&slot->ssl);
		mbedtls_ssl_config_free(&slot->conf);
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

	if (!c->secured) {
		return udp_send(user, c->udp, data, len);
	}
	/* One record: a datagram larger than the record size limit is an error, not split. */
	int n = mbedtls_ssl_write(&c->ssl, data, len);
	return n >= 0 && (size_t)n == len ? TERN_STATUS_OK : TERN_STATUS_IO;
}

tern_status_t platform_dtls_recv(void *user, void *connection, uint8_t *buffer, size_t capacity, size_t *len)
{
	struct secure_conn *c = connection;

	if (!c->secured) {
		return udp_recv(user, c->udp, buffer, capacity, len);
	}
	int n = mbedtls_ssl_read(&c->ssl, buffer, capacity);
	if (n <= 0) {
		/* Nothing waiting (MBEDTLS_ERR_SSL_WANT_READ), or the server's close_notify, or
		 * an error: the engine's retransmissions and timeouts take it from there. Records
		 * that do not authenticate are dropped by mbedTLS without a word. */
		return TERN_STATUS_WOULD_BLOCK;
	}
	*len = (size_t)n;
	return TERN_STATUS_OK;
}

void platform_dtls_close(void *user, void *connection)
{
	struct secure_conn *c = connection;

	if (c->secured) {
		/* Best effort: a close_notify alert, then the session is gone. */
		(void)mbedtls_ssl_close_notify(&c->ssl);
		mbedtls_ssl_free(&c->ssl);
		mbedtls_ssl_config_free(&c->conf);
		c->secured = false;
	}
	udp_close(user, c->udp);
	c->udp = NULL;
}
