/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * A tern LwM2M client over plain UDP: the Device object, an IPSO Temperature sensor and a
 * large opaque value (the Blob object, 33000, read and written block-wise).
 *
 *   tern-client [-u coap://host:port] [-e endpoint] [-l lifetime_s] [-U update_after_s]
 *               [-x exit_after_s] [-v 10|11]
 *
 * It registers, answers the server, sends an Update UPDATE_AFTER_S seconds after
 * registering (besides the ones the lifetime needs), and de-registers and exits after
 * EXIT_AFTER_S seconds or on SIGINT/SIGTERM. Exit status 0 means it registered and
 * de-registered cleanly.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blob.h"
#include "tern.h"
#include "temperature.h"
#include "udp.h"

#define DEREGISTER_TIMEOUT_MS 30000u
#define MAX_WAIT_MS 1000u

struct app {
	int registered;
	int ever_registered;
	int rejected;
	uint64_t registered_at;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void random_bytes(void *user, uint8_t *buffer, size_t len)
{
	static FILE *urandom;

	(void)user;
	if (urandom == NULL) {
		urandom = fopen("/dev/urandom", "rb");
	}
	if (urandom == NULL || fread(buffer, 1, len, urandom) != len) {
		for (size_t i = 0; i < len; i++) {
			buffer[i] = (uint8_t)rand();
		}
	}
}

static void on_log(void *user, tern_log_level_t level, const char *message, uint8_t server, uint32_t value)
{
	static const char *const names[] = {"", "error", "warn", "info", "debug"};

	(void)user;
	if (level <= TERN_LOG_INFO) {
		printf("tern: [%s] %s (server %u, %" PRIu32 ")\n", names[level], message, server, value);
	}
}

static void on_event(void *user, const tern_event_t *event)
{
	struct app *app = user;

	switch (event->kind) {
	case TERN_EVENT_REGISTERED:
		printf("tern: registered with server %u\n", event->server);
		app->registered = 1;
		app->ever_registered = 1;
		app->registered_at = now_ms();
		break;
	case TERN_EVENT_REGISTRATION_REJECTED:
		printf("tern: registration rejected by server %u (%u)\n", event->server, event->code);
		app->rejected = 1;
		break;
	case TERN_EVENT_REGISTRATION_RETRY:
		printf("tern: registration failed, retrying in %" PRIu32 " ms\n", event->value);
		break;
	case TERN_EVENT_UPDATED:
		printf("tern: registration updated\n");
		break;
	case TERN_EVENT_UPDATE_FAILED:
		printf("tern: update failed, registering again\n");
		app->registered = 0;
		break;
	case TERN_EVENT_DEREGISTERED:
		printf("tern: deregistered from server %u\n", event->server);
		app->registered = 0;
		break;
	case TERN_EVENT_REBOOT_REQUESTED:
		printf("tern: reboot requested (ignored by this example)\n");
		break;
	case TERN_EVENT_FACTORY_RESET_REQUESTED:
		printf("tern: factory reset requested (ignored by this example)\n");
		break;
	case TERN_EVENT_CONNECTION_FAILED:
		printf("tern: cannot open the connection, retrying in %" PRIu32 " ms\n", event->value);
		break;
	}
	fflush(stdout);
}

/* Sleeps until a socket is readable or `deadline` (monotonic ms) passes. */
static void wait_until(uint64_t deadline)
{
	struct pollfd fds[TERN_MAX_SERVERS];
	uint64_t now = now_ms();
	uint64_t wait = deadline > now ? deadline - now : 0;

	if (wait > MAX_WAIT_MS) {
		wait = MAX_WAIT_MS;
	}
	size_t n = udp_poll_fds(fds, TERN_MAX_SERVERS);
	if (poll(fds, n, (int)wait) < 0 && errno != EINTR) {
		perror("poll");
	}
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-u coap://host:port] [-e endpoint] [-l lifetime_s] [-U update_after_s]\n"
		"          [-x exit_after_s] [-v 10|11] [-a]\n"
		"  -a  factory Access Control (object 2): the server owns /3/0, others may read it,\n"
		"      and it may create /3303 instances\n",
		argv0);
}

int main(int argc, char **argv)
{
	const char *uri = "coap://127.0.0.1:5683";
	const char *endpoint = "tern-posix";
	unsigned long lifetime = 300, update_after = 0, exit_after = 0, version = 11;
	int opt, acl = 0;

	while ((opt = getopt(argc, argv, "u:e:l:U:x:v:ah")) != -1) {
		switch (opt) {
		case 'u': uri = optarg; break;
		case 'e': endpoint = optarg; break;
		case 'l': lifetime = strtoul(optarg, NULL, 10); break;
		case 'U': update_after = strtoul(optarg, NULL, 10); break;
		case 'x': exit_after = strtoul(optarg, NULL, 10); break;
		case 'v': version = strtoul(optarg, NULL, 10); break;
		case 'a': acl = 1; break;
		default: usage(argv[0]); return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	static tern_client_storage_t storage;
	static struct app app;
	const tern_server_config_t server = {
		.uri = {uri, strlen(uri)},
		.short_server_id = 1,
		.lifetime_s = (uint32_t)lifetime,
	};
	const tern_config_t config = {
		.endpoint = {endpoint, strlen(endpoint)},
		.lwm2m_version = (uint8_t)version,
		.update_margin_s = 10,
		.servers = &server,
		.server_count = 1,
		.manufacturer = {"tern", 4},
		.model = {"tern-posix", 10},
		.serial = {"0001", 4},
		.firmware_version = {"0.1.0", 5},
	};
	const tern_platform_t platform = {
		.user = &app,
		.open = udp_open,
		.send = udp_send,
		.recv = udp_recv,
		.close = udp_close,
		.random = random_bytes,
		.log = on_log,
		.event = on_event,
	};
	tern_client_t *client = NULL;
	tern_status_t st = tern_client_init(&storage, sizeof(storage), &config, &platform, &client);
	if (st != TERN_STATUS_OK) {
		fprintf(stderr, "tern_client_init: %s\n", tern_status_str(st));
		return 1;
	}
	static const uint16_t temperature_instances[] = {0};
	st = tern_client_add_object(client, &temperature_object, NULL, temperature_instances, 1);
	if (st != TERN_STATUS_OK) {
		fprintf(stderr, "tern_client_add_object: %s\n", tern_status_str(st));
		return 1;
	}
	/* A large opaque value, read and written block-wise by the server. */
	static const uint16_t blob_instances[] = {0};
	st = tern_client_add_object(client, &blob_object, NULL, blob_instances, 1);
	if (st != TERN_STATUS_OK) {
		fprintf(stderr, "tern_client_add_object: %s\n", tern_status_str(st));
		return 1;
	}
	/* Enforced only with several servers; with one, object 2 just shows these. */
	if (acl && ((st = tern_client_set_acl_owner(client, 3, 0, server.short_server_id)) != TERN_STATUS_OK ||
		    (st = tern_client_set_acl(client, 3, 0, 0, TERN_ACL_READ)) != TERN_STATUS_OK ||
		    (st = tern_client_set_acl(client, 3303, 65535, server.short_server_id, TERN_ACL_CREATE)) !=
			    TERN_STATUS_OK)) {
		fprintf(stderr, "tern_client_set_acl: %s\n", tern_status_str(st));
		return 1;
	}
	printf("tern: client %s for %s (lifetime %lu s, LwM2M %lu.%lu, %zu bytes of client storage)\n", endpoint,
	       uri, lifetime, version / 10, version % 10, tern_client_storage_size());

	const uint64_t start = now_ms();
	uint64_t stop_deadline = 0;
	int update_sent = 0;

	for (;;) {
		uint64_t now = now_ms();
		uint64_t next = UINT64_MAX;

		temperature_sample(now - start);
		tern_client_step(client, now, &next);

		if (app.registered && update_after > 0 && !update_sent &&
		    now >= app.registered_at + update_after * 1000u) {
			printf("tern: sending an update\n");
			tern_client_update(client);
			update_sent = 1;
			continue;
		}
		int time_up = exit_after > 0 && now >= start + exit_after * 1000u;
		if ((stop_requested || time_up || app.rejected) && stop_deadline == 0) {
			printf("tern: deregistering\n");
			tern_client_deregister(client);
			stop_deadline = now + DEREGISTER_TIMEOUT_MS;
			continue;
		}
		if (stop_deadline != 0 && (tern_client_is_idle(client) || now >= stop_deadline)) {
			break;
		}
		wait_until(next);
	}
	int clean = app.ever_registered && !app.registered && tern_client_is_idle(client);
	tern_client_close(client);
	printf("tern: done (%s)\n", clean ? "clean" : "not clean");
	return clean ? 0 : 1;
}
