/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * A tern LwM2M client over plain UDP, on whatever system runs it (example.h says what it
 * needs: a POSIX process in main.c, a FreeRTOS task in ../freertos). It serves the Device
 * object, an IPSO Temperature sensor, a large opaque value (the Blob object, 33000, read and
 * written block-wise), instances a server creates and deletes (the Schedule object, 33001),
 * and the standard Connectivity Monitoring (4), Location (6) and Connectivity Statistics (7)
 * objects (when the library is built with them).
 *
 *   tern-client [-u coap://host:port] [-e endpoint] [-l lifetime_s] [-U update_after_s]
 *               [-x exit_after_s] [-v 10|11] [-b coap://bootstrap-host:port]
 *
 * With -b alone it first asks that bootstrap server for its LwM2M servers; with -b and -u it
 * registers with the -u server and falls back to the bootstrap server if that one refuses.
 * It registers, answers the server, sends an Update UPDATE_AFTER_S seconds after
 * registering (besides the ones the lifetime needs), and de-registers and exits after
 * EXIT_AFTER_S seconds or on SIGINT/SIGTERM. Exit status 0 means it registered and
 * de-registered cleanly.
 *
 * It also offers the Firmware Update object (5), pushed or pulled from a coap:// Package
 * URI: the "flash" only checksums the package (CRC-32), and an update always succeeds.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blob.h"
#include "example.h"
#include "schedule.h"
#include "tern.h"
#include "temperature.h"
#include "udp.h"

#ifdef TERN_EXAMPLE_PLATFORM_DTLS
#include "platform_dtls.h"
/* coaps:// servers are secured by the platform (OpenSSL or mbedTLS here), not by the library. */
#define CONN_OPEN platform_dtls_open
#define CONN_SEND platform_dtls_send
#define CONN_RECV platform_dtls_recv
#define CONN_CLOSE platform_dtls_close
#else
#define CONN_OPEN udp_open
#define CONN_SEND udp_send
#define CONN_RECV udp_recv
#define CONN_CLOSE udp_close
#endif

#define DEREGISTER_TIMEOUT_MS 30000u

struct app {
	int registered;
	int ever_registered;
	int rejected;
	uint64_t registered_at;
	int firmware_update; /* a server executed Update: report the result from the loop */
	int can_bootstrap;   /* a refused registration leads to a bootstrap, not to the exit */
};

/* The firmware "flash": the package's CRC-32 (IEEE) and size. */
struct firmware {
	uint32_t crc;
	uint32_t size;
	struct app *app;
};

static uint8_t fw_open(void *user)
{
	struct firmware *fw = user;

	fw->crc = 0xFFFFFFFFu;
	fw->size = 0;
	return 0;
}

static uint8_t fw_write(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
	struct firmware *fw = user;

	if (offset != fw->size) {
		return 5; /* integrity check failure: the library never does this */
	}
	for (size_t i = 0; i < len; i++) {
		fw->crc ^= data[i];
		for (int k = 0; k < 8; k++) {
			fw->crc = (fw->crc >> 1) ^ (0xEDB88320u & (0u - (fw->crc & 1u)));
		}
	}
	fw->size += (uint32_t)len;
	return 0;
}

static uint8_t fw_finish(void *user, uint32_t size)
{
	struct firmware *fw = user;

	printf("tern: firmware package %" PRIu32 " bytes crc32 %08" PRIx32 "\n", size, ~fw->crc);
	return size == fw->size ? 0 : 5;
}

static void fw_update(void *user)
{
	struct firmware *fw = user;

	printf("tern: applying the firmware package\n");
	fw->app->firmware_update = 1;
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
		app->registered_at = example_now_ms();
		break;
	case TERN_EVENT_REGISTRATION_REJECTED:
		printf("tern: registration rejected by server %u (%u)\n", event->server, event->code);
		app->rejected = !app->can_bootstrap;
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
	case TERN_EVENT_BOOTSTRAPPED:
		printf("tern: bootstrapped\n");
		break;
	case TERN_EVENT_BOOTSTRAP_FAILED:
		printf("tern: bootstrap failed, starting over in %" PRIu32 " ms\n", event->value);
		break;
	case TERN_EVENT_CONNECTION_FAILED:
		printf("tern: cannot open the connection, retrying in %" PRIu32 " ms\n", event->value);
		break;
	case TERN_EVENT_DTLS_FAILED:
		printf("tern: DTLS handshake with server %u failed (%u), trying again in a minute\n", event->server,
		       event->code);
		break;
	case TERN_EVENT_FIRMWARE_STATE:
		printf("tern: firmware state %" PRIu32 ", update result %u\n", event->value, event->code);
		break;
	case TERN_EVENT_FIRMWARE_PROGRESS:
		printf("tern: firmware download %" PRIu32 " bytes\n", event->value);
		break;
	case TERN_EVENT_SEND_SUCCEEDED:
		printf("tern: send succeeded\n");
		break;
	case TERN_EVENT_SEND_FAILED:
		printf("tern: send refused (%u)\n", event->code);
		break;
	case TERN_EVENT_SEND_TIMEOUT:
		printf("tern: send got no response\n");
		break;
	case TERN_EVENT_OBSERVATION_ENDED:
		printf("tern: an observation of server %u ended\n", event->server);
		break;
	case TERN_EVENT_QUEUE_SLEEPING:
		printf("tern: queue mode: asleep (the server holds its requests)\n");
		break;
	case TERN_EVENT_QUEUE_AWAKE:
		printf("tern: queue mode: awake\n");
		break;
	case TERN_EVENT_NOTIFICATIONS_DROPPED:
		printf("tern: queue mode: %u held notifications dropped\n", (unsigned)event->value);
		break;
	}
	fflush(stdout);
}

/*
 * The values of the optional standard objects: a wired loopback connection and a fixed
 * position (Connectivity Statistics counts by itself once a server starts it). The
 * arrays are static: the client borrows them until the next tern_client_set_connectivity.
 */
static void set_standard_objects(tern_client_t *client)
{
	static const uint8_t bearers[] = {41}; /* Ethernet */
	static const tern_str_t addresses[] = {{"127.0.0.1", 9}};
	tern_connectivity_t conn;
	tern_location_t fix;
	tern_status_t st;

	memset(&conn, 0, sizeof(conn));
	conn.network_bearer = 41;
	conn.radio_signal_strength = -60;
	conn.available_bearers = bearers;
	conn.available_bearer_count = 1;
	conn.ip_addresses = addresses;
	conn.ip_address_count = 1;
	conn.present = TERN_CONNECTIVITY_LINK_UTILIZATION;
	conn.link_utilization = 3;
	st = tern_client_set_connectivity(client, &conn);
	if (st != TERN_STATUS_OK) {
		printf("tern: no Connectivity Monitoring object (%s)\n", tern_status_str(st));
	}
	memset(&fix, 0, sizeof(fix));
	fix.latitude = 48.8584;
	fix.longitude = 2.2945;
	fix.altitude = 35.0;
	fix.radius = 10.0;
	fix.speed = 0.0;
	fix.timestamp = (int64_t)time(NULL);
	st = tern_client_set_location(client, &fix);
	if (st != TERN_STATUS_OK) {
		printf("tern: no Location object (%s)\n", tern_status_str(st));
	}
}

/* Gives server slot `slot` its PSK (identity, key in hex): to the library's DTLS, or to
 * the platform's when it secures coaps:// connections itself. */
static int set_psk(tern_client_t *client, uint8_t slot, const char *identity, const char *hex)
{
	uint8_t key[64];
	size_t len = hex != NULL ? strlen(hex) / 2 : 0;

	if (hex == NULL || strlen(hex) % 2 != 0 || len == 0 || len > sizeof(key)) {
		fprintf(stderr, "-k: 2 to 128 hex digits\n");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned byte;
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
			fprintf(stderr, "-k: not hex\n");
			return -1;
		}
		key[i] = (uint8_t)byte;
	}
#ifdef TERN_EXAMPLE_PLATFORM_DTLS
	(void)client;
	(void)slot;
	if (platform_dtls_set_psk(identity, key, len) != 0) {
		fprintf(stderr, "-i: 1 to 64 characters\n");
		return -1;
	}
	return 0;
#endif
	tern_status_t st = tern_client_set_psk(client, slot, (const uint8_t *)identity, strlen(identity), key, len);
	if (st != TERN_STATUS_OK) {
		fprintf(stderr, "tern_client_set_psk: %s\n", tern_status_str(st));
		return -1;
	}
	return 0;
}

/* Reads a whole (small) key file into buf: its length, or 0. */
static size_t read_key_file(const char *path, uint8_t *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		return 0;
	}
	n = fread(buf, 1, size, f);
	if (n == size || ferror(f)) {
		fprintf(stderr, "%s: unreadable or longer than %zu bytes\n", path, size - 1);
		n = 0;
	}
	fclose(f);
	return n;
}

/* Gives server slot `slot` raw public keys for the library's DTLS (Security mode 1): this
 * client's private key and the server's public key, each a DER file (PKCS#8 or SEC1 / the
 * SubjectPublicKeyInfo) or the raw bytes. */
static int set_rpk(tern_client_t *client, uint8_t slot, const char *private_path, const char *server_path)
{
	uint8_t private_key[256], server_key[256];
	size_t private_len, server_len;

	if (private_path == NULL || server_path == NULL) {
		fprintf(stderr, "-K and -P go together\n");
		return -1;
	}
	private_len = read_key_file(private_path, private_key, sizeof(private_key));
	server_len = read_key_file(server_path, server_key, sizeof(server_key));
	if (private_len == 0 || server_len == 0) {
		return -1;
	}
	tern_status_t st = tern_client_set_rpk(client, slot, private_key, private_len, server_key, server_len);
	memset(private_key, 0, sizeof(private_key));
	if (st != TERN_STATUS_OK) {
		fprintf(stderr, "tern_client_set_rpk: %s\n", tern_status_str(st));
		return -1;
	}
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-u coap://host:port] [-e endpoint] [-l lifetime_s] [-U update_after_s]\n"
		"          [-x exit_after_s] [-v 10|11] [-a] [-S] [-Q awake_ms] [-b bootstrap_uri]\n"
		"  -a  factory Access Control (object 2): the server owns /3/0, others may read it,\n"
		"      and it may create /3303 instances\n"
		"  -S  once registered, Send (LwM2M 1.1) /3/0/0 and /3303/0 to the server in SenML CBOR\n"
		"  -Q  queue mode: asleep awake_ms after each exchange (0: 93 s), until the next Update\n"
		"  -b  a bootstrap server: bootstrap from it first, or (with -u) when -u refuses\n"
		"  -i, -k  the coaps:// server's PSK identity and key (hex), or the bootstrap server's\n"
		"          with -b alone: the library's DTLS, or the\n"
		"          platform's (OpenSSL or mbedTLS) in a build with TERN_EXAMPLE_PLATFORM_DTLS\n"
		"  -K, -P  or raw public keys for the library's DTLS: files with this client's P-256\n"
		"          private key (PKCS#8 or SEC1 DER, or 32 raw bytes) and the server's public\n"
		"          key (SubjectPublicKeyInfo DER or the raw point), the bootstrap server's with\n"
		"          -b alone; needs the dtls-rpk feature\n",
		argv0);
}

int example_run(int argc, char **argv)
{
	const char *uri = "coap://127.0.0.1:5683";
	const char *endpoint = "tern-posix";
	const char *bootstrap_uri = NULL;
	int uri_given = 0;
	const char *psk_identity = NULL, *psk_hex = NULL;
	const char *rpk_private = NULL, *rpk_server = NULL;
	unsigned long lifetime = 300, update_after = 0, exit_after = 0, version = 11;
	int opt, acl = 0, send_once = 0;
	long queue_awake_ms = -1;

	while ((opt = getopt(argc, argv, "u:e:l:U:x:v:aSQ:b:i:k:K:P:h")) != -1) {
		switch (opt) {
		case 'u': uri = optarg; uri_given = 1; break;
		case 'e': endpoint = optarg; break;
		case 'l': lifetime = strtoul(optarg, NULL, 10); break;
		case 'U': update_after = strtoul(optarg, NULL, 10); break;
		case 'x': exit_after = strtoul(optarg, NULL, 10); break;
		case 'v': version = strtoul(optarg, NULL, 10); break;
		case 'a': acl = 1; break;
		case 'S': send_once = 1; break;
		case 'Q': queue_awake_ms = strtol(optarg, NULL, 10); break;
		case 'b': bootstrap_uri = optarg; break;
		case 'i': psk_identity = optarg; break;
		case 'k': psk_hex = optarg; break;
		case 'K': rpk_private = optarg; break;
		case 'P': rpk_server = optarg; break;
		default: usage(argv[0]); return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

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
		.server_count = bootstrap_uri != NULL && !uri_given ? 0 : 1,
		.bootstrap_uri = {bootstrap_uri, bootstrap_uri != NULL ? strlen(bootstrap_uri) : 0},
		.manufacturer = {"tern", 4},
		.model = {"tern-posix", 10},
		.serial = {"0001", 4},
		.firmware_version = {"0.1.0", 5},
	};
	const tern_platform_t platform = {
		.user = &app,
		.open = CONN_OPEN,
		.send = CONN_SEND,
		.recv = CONN_RECV,
		.close = CONN_CLOSE,
		.random = random_bytes,
		.log = on_log,
		.event = on_event,
#ifdef TERN_EXAMPLE_PLATFORM_DTLS
		.credentials = platform_dtls_credentials,
#endif
	};
	tern_client_t *client = NULL;
	tern_status_t st = tern_client_init(&storage, sizeof(storage), &config, &platform, &client);
	if (st != TERN_STATUS_OK) {
		fprintf(stderr, "tern_client_init: %s\n", tern_status_str(st));
		return 1;
	}
	/* The keys are server 0's, or the bootstrap server's when there is only that one. */
	const uint8_t psk_slot = config.server_count != 0 ? 0 : TERN_BOOTSTRAP_SLOT;
	if (psk_identity != NULL && set_psk(client, psk_slot, psk_identity, psk_hex) != 0) {
		return 1;
	}
	if ((rpk_private != NULL || rpk_server != NULL) && set_rpk(client, psk_slot, rpk_private, rpk_server) != 0) {
		return 1;
	}
	if (queue_awake_ms >= 0) {
		st = tern_client_set_queue_mode(client, 0, true, (uint32_t)queue_awake_ms);
		if (st != TERN_STATUS_OK) {
			fprintf(stderr, "tern_client_set_queue_mode: %s\n", tern_status_str(st));
			return 1;
		}
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
	/* Instances a server creates and deletes; instance 0 exists from the start. */
	static const uint16_t schedule_instances[] = {0};
	schedule_init();
	st = tern_client_add_object(client, &schedule_object, NULL, schedule_instances, 1);
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
	static struct firmware firmware = {.app = &app};
	const tern_firmware_sink_t sink = {
		.user = &firmware,
		.open = fw_open,
		.write = fw_write,
		.finish = fw_finish,
		.update = fw_update,
	};
	st = tern_client_set_firmware_sink(client, &sink, 1);
	if (st != TERN_STATUS_OK) {
		fprintf(stderr, "tern_client_set_firmware_sink: %s\n", tern_status_str(st));
		return 1;
	}
	set_standard_objects(client);
	app.can_bootstrap = bootstrap_uri != NULL;
	printf("tern: client %s for %s (lifetime %lu s, LwM2M %lu.%lu, %zu bytes of client storage)\n", endpoint,
	       config.server_count != 0 ? uri : bootstrap_uri, lifetime, version / 10, version % 10, tern_client_storage_size());

	const uint64_t start = example_now_ms();
	uint64_t stop_deadline = 0;
	int update_sent = 0;

	for (;;) {
		uint64_t now = example_now_ms();
		uint64_t next = UINT64_MAX;

		if (temperature_sample(now - start)) {
			/* Observers of /3303/0/5700 hear of it. */
			static const uint16_t sensor_value[] = {3303, 0, 5700};
			tern_resource_changed(client, sensor_value, 3);
		}
		tern_client_step(client, now, &next);
		if (app.firmware_update) {
			/* A real device would reboot into the new image and report after. */
			app.firmware_update = 0;
			tern_client_firmware_result(client, 1);
			continue;
		}

		if (app.registered && update_after > 0 && !update_sent &&
		    now >= app.registered_at + update_after * 1000u) {
			printf("tern: sending an update\n");
			tern_client_update(client);
			update_sent = 1;
			continue;
		}
		if (app.registered && send_once) {
			static const tern_str_t paths[] = {{"/3/0/0", 6}, {"/3303/0", 7}};
			st = tern_send(client, 0, paths, 2, 112);
			printf("tern: send /3/0/0 and /3303/0: %s\n", tern_status_str(st));
			send_once = 0;
			continue;
		}
		int time_up = exit_after > 0 && now >= start + exit_after * 1000u;
		if ((example_stop_requested || time_up || app.rejected) && stop_deadline == 0) {
			printf("tern: deregistering\n");
			tern_client_deregister(client);
			stop_deadline = now + DEREGISTER_TIMEOUT_MS;
			continue;
		}
		if (stop_deadline != 0 && (tern_client_is_idle(client) || now >= stop_deadline)) {
			break;
		}
		example_wait_until(next);
	}
	int clean = app.ever_registered && !app.registered && tern_client_is_idle(client);
	tern_client_close(client);
	printf("tern: done (%s)\n", clean ? "clean" : "not clean");
	return clean ? 0 : 1;
}
