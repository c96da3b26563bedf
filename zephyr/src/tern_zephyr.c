/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * tern's Zephyr glue: the platform callbacks over zsock_*, the work item that steps the
 * engine, the poll thread that kicks it, settings persistence and the shell command.
 * See include/tern_zephyr.h for the threading rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>
#if __has_include(<zephyr/random/random.h>)
#include <zephyr/random/random.h>
#else
#include <zephyr/random/rand32.h>
#endif
#ifdef CONFIG_TERN_ZEPHYR_TLS
#include <zephyr/net/tls_credentials.h>
#endif
#ifdef CONFIG_TERN_ZEPHYR_SETTINGS
#include <zephyr/settings/settings.h>
#endif
#ifdef CONFIG_TERN_ZEPHYR_SHELL
#include <zephyr/shell/shell.h>
#endif

#include "tern.h"
#include "tern_zephyr.h"

LOG_MODULE_REGISTER(tern, CONFIG_TERN_LOG_LEVEL);

#define MAX_CONNECTIONS CONFIG_TERN_ZEPHYR_MAX_CONNECTIONS
/* Longest host name in a server URI (the URI itself is at most TERN_MAX_URI_LEN). */
#define MAX_HOST_LEN 64

struct connection {
	int fd;
	bool used;
};

enum server_state {
	STATE_STOPPED,
	STATE_STARTING,
	STATE_REGISTERED,
	STATE_SLEEPING,
	STATE_RETRYING,
	STATE_REJECTED,
	STATE_FAILED,
	STATE_DEREGISTERED,
	STATE_BOOTSTRAPPED,
};

static const char *const state_names[] = {
	[STATE_STOPPED] = "stopped",
	[STATE_STARTING] = "starting",
	[STATE_REGISTERED] = "registered",
	[STATE_SLEEPING] = "sleeping",
	[STATE_RETRYING] = "retrying",
	[STATE_REJECTED] = "rejected",
	[STATE_FAILED] = "failed",
	[STATE_DEREGISTERED] = "deregistered",
	[STATE_BOOTSTRAPPED] = "bootstrapped",
};

static tern_client_storage_t storage;
static tern_client_t *client;
static tern_event_fn app_event;
static void *app_user;
static bool running;
static uint64_t next_step_ms = UINT64_MAX;
static uint8_t states[TERN_MAX_SERVERS];
static struct connection connections[MAX_CONNECTIONS];
/* The socketpair that wakes the poll thread: [0] is polled, [1] written. */
static int wake_fds[2] = {-1, -1};

static K_MUTEX_DEFINE(engine_lock);
/* How long tern_zephyr_stop() waits for a step to end before it closes the client. */
#define STOP_CLOSE_WAIT_MS 1000
static K_SEM_DEFINE(stepped, 0, 1);
static struct k_work_q work_q;
static struct k_work_delayable step_work;
static K_THREAD_STACK_DEFINE(work_q_stack, CONFIG_TERN_ZEPHYR_STACK_SIZE);
static K_THREAD_STACK_DEFINE(poll_stack, CONFIG_TERN_ZEPHYR_POLL_STACK_SIZE);
static struct k_thread poll_thread_data;

/* ---- persistence: two RAM slots mirrored into the settings "tern/0" and "tern/1" ---- */

#ifdef CONFIG_TERN_ZEPHYR_SETTINGS
static uint8_t slots[2][CONFIG_TERN_ZEPHYR_STATE_SIZE];
static size_t slot_len[2];
static bool slot_dirty[2];

static int settings_set(const char *key, size_t len, settings_read_cb read_cb, void *cb_arg)
{
	const char *next;
	int slot;

	if (settings_name_steq(key, "0", &next) && next == NULL) {
		slot = 0;
	} else if (settings_name_steq(key, "1", &next) && next == NULL) {
		slot = 1;
	} else {
		return -ENOENT;
	}
	if (len > sizeof(slots[slot])) {
		LOG_ERR("saved record %d is %u bytes, CONFIG_TERN_ZEPHYR_STATE_SIZE %d", slot, (unsigned)len,
			CONFIG_TERN_ZEPHYR_STATE_SIZE);
		return -ENOMEM;
	}
	ssize_t got = read_cb(cb_arg, slots[slot], len);

	slot_len[slot] = got > 0 ? (size_t)got : 0;
	return got < 0 ? (int)got : 0;
}

SETTINGS_STATIC_HANDLER_DEFINE(tern, "tern", NULL, settings_set, NULL, NULL);

static tern_status_t platform_store(void *user, uint8_t slot, uint32_t offset, const uint8_t *data, size_t len)
{
	(void)user;
	if (slot > 1 || offset > sizeof(slots[0]) || len > sizeof(slots[0]) - offset) {
		return TERN_STATUS_NO_SPACE;
	}
	if (offset == 0) {
		slot_len[slot] = 0;
	}
	memcpy(&slots[slot][offset], data, len);
	if (offset + len > slot_len[slot]) {
		slot_len[slot] = offset + len;
	}
	slot_dirty[slot] = true;
	return TERN_STATUS_OK;
}

static tern_status_t platform_load(void *user, uint8_t slot, uint32_t offset, uint8_t *buffer, size_t len)
{
	(void)user;
	if (slot > 1 || offset > slot_len[slot] || len > slot_len[slot] - offset) {
		return TERN_STATUS_NOT_FOUND;
	}
	memcpy(buffer, &slots[slot][offset], len);
	return TERN_STATUS_OK;
}

/* A record is written whole inside one step: save the slots it touched once it returns. */
static void flush_slots(void)
{
	for (int slot = 0; slot < 2; slot++) {
		if (!slot_dirty[slot]) {
			continue;
		}
		slot_dirty[slot] = false;
		char name[] = "tern/0";

		name[5] = (char)('0' + slot);
		int err = settings_save_one(name, slots[slot], slot_len[slot]);

		if (err != 0) {
			LOG_ERR("settings_save_one(%s): %d", name, err);
		}
	}
}
#else
static void flush_slots(void)
{
}
#endif

/* ---- sockets ---- */

static void wake_poll_thread(void)
{
	char byte = 0;

	if (wake_fds[1] >= 0) {
		(void)zsock_send(wake_fds[1], &byte, 1, ZSOCK_MSG_DONTWAIT);
	}
}

/* Splits "coap://host:port/..." or "coaps://[v6]:port" into host, port and security. */
static int parse_uri(const char *uri, size_t uri_len, char *host, char *port, bool *secure)
{
	static const char coap[] = "coap://";
	static const char coaps[] = "coaps://";
	size_t at;

	if (uri_len >= sizeof(coaps) - 1 && memcmp(uri, coaps, sizeof(coaps) - 1) == 0) {
		*secure = true;
		at = sizeof(coaps) - 1;
	} else if (uri_len >= sizeof(coap) - 1 && memcmp(uri, coap, sizeof(coap) - 1) == 0) {
		*secure = false;
		at = sizeof(coap) - 1;
	} else {
		return -EINVAL;
	}
	size_t start = at;
	size_t end;

	if (at < uri_len && uri[at] == '[') {
		start = ++at;
		while (at < uri_len && uri[at] != ']') {
			at++;
		}
		if (at == uri_len) {
			return -EINVAL;
		}
		end = at++;
	} else {
		while (at < uri_len && uri[at] != ':' && uri[at] != '/' && uri[at] != '?') {
			at++;
		}
		end = at;
	}
	if (end == start || end - start >= MAX_HOST_LEN) {
		return -EINVAL;
	}
	memcpy(host, &uri[start], end - start);
	host[end - start] = '\0';

	size_t digits = 0;

	if (at < uri_len && uri[at] == ':') {
		at++;
		while (at < uri_len && uri[at] >= '0' && uri[at] <= '9' && digits < 5) {
			port[digits++] = uri[at++];
		}
		if (digits == 0) {
			return -EINVAL;
		}
	}
	if (at < uri_len && uri[at] != '/' && uri[at] != '?') {
		return -EINVAL;
	}
	if (digits == 0) {
		strcpy(port, *secure ? "5684" : "5683");
	} else {
		port[digits] = '\0';
	}
	return 0;
}

/* An IPv4 or IPv6 socket address (sockaddr_storage is smaller than sockaddr_in6 when
 * Zephyr is built without IPv6). */
union address {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* The server's address: a literal without any allocation (returns 1), else
 * zsock_getaddrinfo (returns 0; needs DNS and a libc heap for anything but literals). */
static int resolve(const char *host, const char *port, union address *addr, socklen_t *addr_len)
{
	unsigned long number = strtoul(port, NULL, 10);

	memset(addr, 0, sizeof(*addr));
	if (number == 0 || number > 65535) {
		return -EINVAL;
	}
	if (zsock_inet_pton(AF_INET, host, &addr->in4.sin_addr) == 1) {
		addr->in4.sin_family = AF_INET;
		addr->in4.sin_port = htons((uint16_t)number);
		*addr_len = sizeof(addr->in4);
		return 1;
	}
	if (zsock_inet_pton(AF_INET6, host, &addr->in6.sin6_addr) == 1) {
		addr->in6.sin6_family = AF_INET6;
		addr->in6.sin6_port = htons((uint16_t)number);
		*addr_len = sizeof(addr->in6);
		return 1;
	}

	struct zsock_addrinfo hints = {.ai_socktype = SOCK_DGRAM};
	struct zsock_addrinfo *res = NULL;
	int err = zsock_getaddrinfo(host, port, &hints, &res);

	if (err != 0 || res == NULL) {
		LOG_WRN("cannot resolve %s: %d", host, err);
		return -EHOSTUNREACH;
	}
	if (res->ai_addrlen > sizeof(*addr)) {
		zsock_freeaddrinfo(res);
		return -EINVAL;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*addr_len = res->ai_addrlen;
	zsock_freeaddrinfo(res);
	return 0;
}

#ifdef CONFIG_TERN_ZEPHYR_TLS
/* DTLS through Zephyr's TLS sockets: the credentials of sec_tag
 * CONFIG_TERN_ZEPHYR_SEC_TAG_BASE + security instance. The handshake runs in the first
 * send (Zephyr 3.4: connect() only keeps the peer's address).
 * A host name (not a literal address: no SNI for those, RFC 6066) is given as TLS_HOSTNAME
 * for the certificate check; an mbedTLS without X.509 (pre-shared keys only) refuses that
 * option with ENOPROTOOPT, and has no certificate to check it against. */
static int secure_socket(int fd, const char *host, bool literal, uint16_t security_instance)
{
	sec_tag_t tag = CONFIG_TERN_ZEPHYR_SEC_TAG_BASE + security_instance;

	if (zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, &tag, sizeof(tag)) < 0) {
		return -errno;
	}
	if (!literal && zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, host, strlen(host)) < 0 &&
	    errno != ENOPROTOOPT) {
		return -errno;
	}
#if CONFIG_TERN_ZEPHYR_DTLS_HANDSHAKE_TIMEOUT_MAX > 0
	/* The handshake blocks the work queue (in connect, or in the first send on Zephyr
	 * 3.x): bound it. */
	uint32_t max_ms = CONFIG_TERN_ZEPHYR_DTLS_HANDSHAKE_TIMEOUT_MAX;

	if (zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MAX, &max_ms, sizeof(max_ms)) < 0) {
		return -errno;
	}
#endif
	return 0;
}
#endif

#ifdef CONFIG_TERN_PLATFORM_CREDENTIALS
/* The pre-shared keys tern hands over, one set per Security instance: tls_credential_add()
 * keeps a reference, not a copy, so they live here. */
static struct {
	bool used;
	uint16_t instance;
	uint8_t identity[64];
	uint8_t key[64];
} psks[TERN_MAX_SERVERS + 1];

/* Replaces the PSK and PSK identity of the instance's sec_tag, before tern opens its socket. */
static tern_status_t platform_credentials(void *user, const tern_credentials_t *c)
{
	sec_tag_t tag = CONFIG_TERN_ZEPHYR_SEC_TAG_BASE + c->security_instance;
	int slot = -1;

	(void)user;
	if (c->mode != 0 || c->identity_len > sizeof(psks[0].identity) || c->key_len > sizeof(psks[0].key)) {
		LOG_ERR("keys of security mode %u not supported", c->mode);
		return TERN_STATUS_INVALID_ARG;
	}
	for (int i = 0; i < (int)(sizeof(psks) / sizeof(psks[0])); i++) {
		if (psks[i].used && psks[i].instance == c->security_instance) {
			slot = i;
			break;
		}
		if (slot < 0 && !psks[i].used) {
			slot = i;
		}
	}
	if (slot < 0) {
		return TERN_STATUS_NO_SPACE;
	}
	(void)tls_credential_delete(tag, TLS_CREDENTIAL_PSK_ID);
	(void)tls_credential_delete(tag, TLS_CREDENTIAL_PSK);
	psks[slot].used = true;
	psks[slot].instance = c->security_instance;
	memcpy(psks[slot].identity, c->identity, c->identity_len);
	memcpy(psks[slot].key, c->key, c->key_len);
	if (tls_credential_add(tag, TLS_CREDENTIAL_PSK_ID, psks[slot].identity, c->identity_len) < 0 ||
	    tls_credential_add(tag, TLS_CREDENTIAL_PSK, psks[slot].key, c->key_len) < 0) {
		LOG_ERR("sec_tag %d: the written keys were not taken", tag);
		return TERN_STATUS_IO;
	}
	LOG_INF("sec_tag %d: PSK identity %.*s of security instance %u", tag, (int)c->identity_len,
		(const char *)psks[slot].identity, c->security_instance);
	return TERN_STATUS_OK;
}
#endif

static tern_status_t platform_open(void *user, const char *uri, size_t uri_len, uint16_t security_instance,
				   void **connection)
{
	char host[MAX_HOST_LEN];
	char port[6];
	bool secure;
	union address addr;
	socklen_t addr_len;
	struct connection *conn = NULL;

	(void)user;
	(void)security_instance;
	if (parse_uri(uri, uri_len, host, port, &secure) != 0) {
		LOG_ERR("unusable server URI %.*s", (int)uri_len, uri);
		return TERN_STATUS_INVALID_ARG;
	}
#if !defined(CONFIG_TERN_ZEPHYR_TLS) && !defined(CONFIG_TERN_DTLS)
	if (secure) {
		LOG_ERR("coaps:// needs CONFIG_TERN_ZEPHYR_TLS or CONFIG_TERN_DTLS");
		return TERN_STATUS_IO;
	}
#endif
	/* With CONFIG_TERN_DTLS a coaps:// server gets a plain UDP socket: tern does the DTLS
	 * (the application gives it the key with tern_client_set_psk). */
	int literal = resolve(host, port, &addr, &addr_len);

	if (literal < 0) {
		return TERN_STATUS_IO;
	}
	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		if (!connections[i].used) {
			conn = &connections[i];
			break;
		}
	}
	if (conn == NULL) {
		LOG_ERR("all %d sockets in use (CONFIG_TERN_ZEPHYR_MAX_CONNECTIONS)", MAX_CONNECTIONS);
		return TERN_STATUS_NO_SPACE;
	}

	int proto = IPPROTO_UDP;

#ifdef CONFIG_TERN_ZEPHYR_TLS
	if (secure) {
		proto = IPPROTO_DTLS_1_2;
	}
#endif
	int fd = zsock_socket(addr.sa.sa_family, SOCK_DGRAM, proto);

	if (fd < 0) {
		LOG_ERR("socket: %d", errno);
		return TERN_STATUS_IO;
	}
	int err = 0;

#ifdef CONFIG_TERN_ZEPHYR_TLS
	if (secure) {
		err = secure_socket(fd, host, literal == 1, security_instance);
	}
#endif
	if (err == 0 && zsock_connect(fd, &addr.sa, addr_len) < 0) {
		err = -errno;
	}
	if (err != 0) {
		LOG_ERR("connecting to %s:%s: %d", host, port, err);
		zsock_close(fd);
		return TERN_STATUS_IO;
	}
	conn->fd = fd;
	conn->used = true;
	*connection = conn;
	LOG_DBG("socket %d to %s:%s", fd, host, port);
	wake_poll_thread();
	return TERN_STATUS_OK;
}

static tern_status_t platform_send(void *user, void *connection, const uint8_t *data, size_t len)
{
	struct connection *conn = connection;

	(void)user;
	if (zsock_send(conn->fd, data, len, 0) < 0) {
		LOG_WRN("send on socket %d: %d", conn->fd, errno);
		return errno == EAGAIN ? TERN_STATUS_WOULD_BLOCK : TERN_STATUS_IO;
	}
	return TERN_STATUS_OK;
}

static tern_status_t platform_recv(void *user, void *connection, uint8_t *buffer, size_t capacity, size_t *len)
{
	struct connection *conn = connection;

	(void)user;
	for (;;) {
		ssize_t got = zsock_recv(conn->fd, buffer, capacity, ZSOCK_MSG_DONTWAIT | ZSOCK_MSG_TRUNC);

		if (got < 0) {
			return errno == EAGAIN || errno == EWOULDBLOCK ? TERN_STATUS_WOULD_BLOCK : TERN_STATUS_IO;
		}
		if ((size_t)got <= capacity) {
			*len = (size_t)got;
			return TERN_STATUS_OK;
		}
		LOG_WRN("dropped a %d-byte datagram (TERN_MAX_MESSAGE_SIZE)", (int)got);
	}
}

static void platform_close(void *user, void *connection)
{
	struct connection *conn = connection;

	(void)user;
	zsock_close(conn->fd);
	conn->fd = -1;
	conn->used = false;
	wake_poll_thread();
}

static void platform_random(void *user, uint8_t *buffer, size_t len)
{
	(void)user;
#if defined(CONFIG_CSPRNG_ENABLED) || defined(CONFIG_CSPRING_ENABLED)
	if (sys_csrand_get(buffer, len) == 0) {
		return;
	}
	LOG_ERR("sys_csrand_get failed");
#endif
	/* No entropy driver (CONFIG_TEST_RANDOM_GENERATOR boards): not cryptographically secure. */
	sys_rand_get(buffer, len);
}

static void platform_log(void *user, tern_log_level_t level, const char *message, uint8_t server, uint32_t value)
{
	(void)user;
	switch (level) {
	case TERN_LOG_ERROR:
		LOG_ERR("%s (server %u, %u)", message, server, value);
		break;
	case TERN_LOG_WARN:
		LOG_WRN("%s (server %u, %u)", message, server, value);
		break;
	case TERN_LOG_INFO:
		LOG_INF("%s (server %u, %u)", message, server, value);
		break;
	default:
		LOG_DBG("%s (server %u, %u)", message, server, value);
		break;
	}
}

static void platform_event(void *user, const tern_event_t *event)
{
	uint8_t *state = event->server < TERN_MAX_SERVERS ? &states[event->server] : NULL;

	(void)user;
	if (state != NULL) {
		switch (event->kind) {
		case TERN_EVENT_REGISTERED:
		case TERN_EVENT_UPDATED:
		case TERN_EVENT_QUEUE_AWAKE:
			*state = STATE_REGISTERED;
			break;
		case TERN_EVENT_QUEUE_SLEEPING:
			*state = STATE_SLEEPING;
			break;
		case TERN_EVENT_REGISTRATION_RETRY:
		case TERN_EVENT_CONNECTION_FAILED:
		case TERN_EVENT_UPDATE_FAILED:
			*state = STATE_RETRYING;
			break;
		case TERN_EVENT_REGISTRATION_REJECTED:
			*state = STATE_REJECTED;
			break;
		case TERN_EVENT_REGISTRATION_FAILED:
			*state = STATE_FAILED;
			break;
		case TERN_EVENT_DEREGISTERED:
			*state = STATE_DEREGISTERED;
			break;
		case TERN_EVENT_BOOTSTRAPPED:
			*state = STATE_BOOTSTRAPPED;
			break;
		default:
			break;
		}
	}
	LOG_DBG("event %u server %u code %u value %u", event->kind, event->server, event->code, event->value);
	if (app_event != NULL) {
		app_event(app_user, event);
	}
}

static uint32_t critical_enter(void *user)
{
	(void)user;
	return (uint32_t)irq_lock();
}

static void critical_exit(void *user, uint32_t state)
{
	(void)user;
	irq_unlock((unsigned int)state);
}

/* ---- the work item and the poll thread ---- */

static void step_handler(struct k_work *work)
{
	uint64_t next = UINT64_MAX;
	int64_t now = k_uptime_get();

	(void)work;
	k_mutex_lock(&engine_lock, K_FOREVER);
	if (client == NULL || !running) {
		k_mutex_unlock(&engine_lock);
		k_sem_give(&stepped);
		return;
	}
	tern_status_t status = tern_client_step(client, (uint64_t)now, &next);

	LOG_DBG("step at %lld: next in %lld ms", (long long)now,
		next == UINT64_MAX ? -1LL : (long long)(next - (uint64_t)now));

	flush_slots();
	next_step_ms = next;
	k_mutex_unlock(&engine_lock);
	k_sem_give(&stepped);
	if (status != TERN_STATUS_OK) {
		LOG_ERR("tern_client_step: %s", tern_status_str(status));
	}
	if (next != UINT64_MAX) {
		uint64_t delay = next > (uint64_t)now ? next - (uint64_t)now : 0;

		if (delay > INT32_MAX) {
			delay = INT32_MAX;
		}
		k_work_reschedule_for_queue(&work_q, &step_work, K_MSEC(delay));
	}
}

static void poll_thread(void *p1, void *p2, void *p3)
{
	struct zsock_pollfd fds[MAX_CONNECTIONS + 1];

	(void)p1;
	(void)p2;
	(void)p3;
	for (;;) {
		int n = 0;

		fds[n].fd = wake_fds[0];
		fds[n++].events = ZSOCK_POLLIN;
		k_mutex_lock(&engine_lock, K_FOREVER);
		for (int i = 0; i < MAX_CONNECTIONS; i++) {
			if (connections[i].used) {
				fds[n].fd = connections[i].fd;
				fds[n++].events = ZSOCK_POLLIN;
			}
		}
		k_mutex_unlock(&engine_lock);

		if (zsock_poll(fds, n, -1) < 0) {
			LOG_ERR("poll: %d", errno);
			k_sleep(K_MSEC(100));
			continue;
		}
		if (fds[0].revents & ZSOCK_POLLIN) {
			/* One read, which poll says cannot block (a socketpair ignores
			 * ZSOCK_MSG_DONTWAIT on Zephyr 3.x); bytes left over wake the next poll. */
			char drain[16];

			(void)zsock_recv(wake_fds[0], drain, sizeof(drain), ZSOCK_MSG_DONTWAIT);
		}
		bool readable = false;
		bool failed = false;

		for (int i = 1; i < n; i++) {
			readable |= (fds[i].revents & ZSOCK_POLLIN) != 0;
			failed |= (fds[i].revents & (ZSOCK_POLLERR | ZSOCK_POLLHUP | ZSOCK_POLLNVAL)) != 0;
		}
		if (readable || failed) {
			LOG_DBG("socket readable: step");
			/* Let the step read what is waiting before polling again. */
			k_sem_reset(&stepped);
			tern_zephyr_kick();
			k_sem_take(&stepped, K_MSEC(500));
		}
		if (failed && !readable) {
			k_sleep(K_MSEC(100));
		}
	}
}

/* ---- the API ---- */

int tern_zephyr_init(const tern_config_t *config, tern_event_fn on_event, void *user, tern_client_t **out)
{
	static const tern_platform_t platform = {
		.open = platform_open,
		.send = platform_send,
		.recv = platform_recv,
		.close = platform_close,
		.random = platform_random,
		.log = platform_log,
		.event = platform_event,
#ifdef CONFIG_TERN_ZEPHYR_SETTINGS
		.store = platform_store,
		.load = platform_load,
#endif
#ifdef CONFIG_TERN_PLATFORM_CREDENTIALS
		.credentials = platform_credentials,
#endif
	};

	if (client != NULL) {
		return -EALREADY;
	}
	if (tern_client_storage_size() > sizeof(storage)) {
		LOG_ERR("tern needs %u bytes of storage, TERN_CLIENT_STORAGE_SIZE is %u",
			(unsigned)tern_client_storage_size(), (unsigned)sizeof(storage));
		return -ENOMEM;
	}
#ifdef CONFIG_TERN_C_CRITICAL_SECTION
	(void)tern_set_critical_section(critical_enter, critical_exit, NULL);
#else
	(void)critical_enter;
	(void)critical_exit;
#endif
#ifdef CONFIG_TERN_ZEPHYR_SETTINGS
	int err = settings_subsys_init();

	if (err == 0) {
		err = settings_load_subtree("tern");
	}
	if (err != 0) {
		LOG_WRN("settings: %d; starting without the saved state", err);
	}
#endif
	if (wake_fds[0] < 0 && zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, wake_fds) != 0) {
		LOG_ERR("socketpair: %d", errno);
		return -EIO;
	}
	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		connections[i].fd = -1;
		connections[i].used = false;
	}
	app_event = on_event;
	app_user = user;

	tern_client_t *c = NULL;
	tern_status_t status = tern_client_init(&storage, sizeof(storage), config, &platform, &c);

	if (status != TERN_STATUS_OK) {
		LOG_ERR("tern_client_init: %s", tern_status_str(status));
		return -EINVAL;
	}
	client = c;
	if (out != NULL) {
		*out = c;
	}
	return 0;
}

int tern_zephyr_start(void)
{
	static bool threads_started;

	if (client == NULL) {
		return -EINVAL;
	}
	if (running) {
		return -EALREADY;
	}
	for (size_t i = 0; i < TERN_MAX_SERVERS; i++) {
		states[i] = STATE_STARTING;
	}
	running = true;
	if (!threads_started) {
		threads_started = true;
		struct k_work_queue_config cfg = {.name = "tern"};

		k_work_init_delayable(&step_work, step_handler);
		k_work_queue_start(&work_q, work_q_stack, K_THREAD_STACK_SIZEOF(work_q_stack),
				   CONFIG_TERN_ZEPHYR_PRIORITY, &cfg);
		k_thread_create(&poll_thread_data, poll_stack, K_THREAD_STACK_SIZEOF(poll_stack), poll_thread, NULL,
				NULL, NULL, CONFIG_TERN_ZEPHYR_PRIORITY, 0, K_NO_WAIT);
		k_thread_name_set(&poll_thread_data, "tern_poll");
	}
	tern_zephyr_kick();
	return 0;
}

void tern_zephyr_kick(void)
{
	if (running) {
		k_work_reschedule_for_queue(&work_q, &step_work, K_NO_WAIT);
	}
}

void tern_zephyr_lock(void)
{
	k_mutex_lock(&engine_lock, K_FOREVER);
}

void tern_zephyr_unlock(void)
{
	k_mutex_unlock(&engine_lock);
}

/* Takes the engine lock, waiting until `deadline` (k_uptime_get() ms) at most. */
static bool lock_until(int64_t deadline)
{
	int64_t left = deadline - k_uptime_get();

	return k_mutex_lock(&engine_lock, left > 0 ? K_MSEC(left) : K_NO_WAIT) == 0;
}

int tern_zephyr_stop(uint32_t timeout_ms)
{
	if (client == NULL || !running) {
		return -EINVAL;
	}
	int64_t deadline = k_uptime_get() + timeout_ms;

	if (!lock_until(deadline)) {
		return -EBUSY;
	}
	(void)tern_client_deregister(client);
	k_mutex_unlock(&engine_lock);
	tern_zephyr_kick();

	bool idle = false;

	while (!idle && k_uptime_get() < deadline) {
		k_sleep(K_MSEC(50));
		if (lock_until(deadline)) {
			idle = tern_client_is_idle(client);
			k_mutex_unlock(&engine_lock);
		}
	}
	/* A step that never returns (a send callback stuck in a driver) keeps the engine:
	 * the client cannot be closed under it. */
	if (!lock_until(k_uptime_get() + STOP_CLOSE_WAIT_MS)) {
		return -EBUSY;
	}
	running = false;
	(void)tern_client_close(client);
	client = NULL;
	for (size_t i = 0; i < TERN_MAX_SERVERS; i++) {
		states[i] = STATE_STOPPED;
	}
	k_mutex_unlock(&engine_lock);
	struct k_work_sync sync;

	(void)k_work_cancel_delayable_sync(&step_work, &sync);
	return idle ? 0 : -ETIMEDOUT;
}

const char *tern_zephyr_state(uint8_t server)
{
	if (server >= TERN_MAX_SERVERS) {
		return NULL;
	}
	return running ? state_names[states[server]] : state_names[STATE_STOPPED];
}

/* ---- shell: tern status ---- */

#ifdef CONFIG_TERN_ZEPHYR_SHELL
static int cmd_status(const struct shell *sh, size_t argc, char **argv)
{
	(void)argc;
	(void)argv;
	k_mutex_lock(&engine_lock, K_FOREVER);
	uint64_t next = next_step_ms;
	int sockets = 0;

	for (int i = 0; i < MAX_CONNECTIONS; i++) {
		sockets += connections[i].used ? 1 : 0;
	}
	k_mutex_unlock(&engine_lock);
	shell_print(sh, "tern: %s, %d socket(s) open", running ? "running" : "stopped", sockets);
	for (uint8_t i = 0; i < TERN_MAX_SERVERS; i++) {
		shell_print(sh, "server %u: %s", i, tern_zephyr_state(i));
	}
	if (running && next != UINT64_MAX) {
		int64_t now = k_uptime_get();
		long long in_ms = next > (uint64_t)now ? (long long)(next - (uint64_t)now) : 0;

		shell_print(sh, "next step in %lld ms", in_ms);
	}
	return 0;
}

SHELL_STATIC_SUBCMD_SET_CREATE(tern_cmds, SHELL_CMD(status, NULL, "Registration state of each server", cmd_status),
			       SHELL_SUBCMD_SET_END);
SHELL_CMD_REGISTER(tern, &tern_cmds, "tern LwM2M client", NULL);
#endif
