/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The Firmware Update object (5) through the C ABI: the sink is checked and registered
 * (the registration lists </5/0>), a Write of Package (/5/0/0) streams into the sink and
 * ends in Downloaded, Execute Update (/5/0/2) calls the sink's update callback after the
 * response, tern_client_firmware_result ends in Idle with Update Result 1; a Write of a
 * Package URI opens a second connection through `open` (security instance 65535) and a
 * GET with Block2 goes out on it, whose answer completes the download with a progress
 * event.
 */
#include <stdio.h>
#include <string.h>

#include "tern.h"

#include "check.h"

static int server_conn, download_conn;
static uint8_t last[512];
static size_t last_len;
static void *last_conn;
static unsigned sends;
static char opened_uri[128];
static uint16_t opened_security;

static tern_status_t on_open(void *user, const char *uri, size_t len, uint16_t sec, void **conn)
{
	(void)user;
	if (len < sizeof(opened_uri)) {
		memcpy(opened_uri, uri, len);
		opened_uri[len] = '\0';
	}
	opened_security = sec;
	if (strstr(opened_uri, "unreachable") != NULL) {
		return TERN_STATUS_IO;
	}
	*conn = sec == 65535 ? &download_conn : &server_conn;
	return TERN_STATUS_OK;
}

static tern_status_t on_send(void *user, void *conn, const uint8_t *data, size_t len)
{
	(void)user;
	if (len > sizeof(last)) {
		return TERN_STATUS_IO;
	}
	memcpy(last, data, len);
	last_len = len;
	last_conn = conn;
	sends++;
	return TERN_STATUS_OK;
}

static unsigned state_events, progress_events;
static uint32_t last_state, last_progress;
static uint16_t last_result;

static void on_event(void *user, const tern_event_t *event)
{
	(void)user;
	if (event->kind == TERN_EVENT_FIRMWARE_STATE) {
		state_events++;
		last_state = event->value;
		last_result = event->code;
	}
	if (event->kind == TERN_EVENT_FIRMWARE_PROGRESS) {
		progress_events++;
		last_progress = event->value;
	}
}

static void on_random(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	memset(buf, 0x33, len);
}

/* ---- the sink: keeps the package in a buffer ---- */
static uint8_t package[64];
static uint32_t package_len;
static unsigned opens, finishes, updates;

static uint8_t fw_open(void *user)
{
	(void)user;
	opens++;
	package_len = 0;
	return 0;
}

static uint8_t fw_write(void *user, uint32_t offset, const uint8_t *data, size_t len)
{
	(void)user;
	if (offset != package_len || offset + len > sizeof(package)) {
		return 2; /* not enough storage */
	}
	memcpy(package + offset, data, len);
	package_len += (uint32_t)len;
	return 0;
}

static uint8_t fw_finish(void *user, uint32_t size)
{
	(void)user;
	finishes++;
	return size == package_len ? 0 : 5;
}

static void fw_update(void *user)
{
	(void)user;
	updates++;
}

static int contains(const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= last_len; i++) {
		if (memcmp(last + i, needle, n) == 0) {
			return 1;
		}
	}
	return 0;
}

int main(void)
{
	static tern_client_storage_t storage;
	static const tern_server_config_t server = {{"coap://127.0.0.1:5683", 21}, 1, 60};
	tern_config_t config;
	tern_platform_t platform;
	tern_client_t *client = NULL;
	uint64_t next = 0;
	uint8_t msg[128];

	memset(&config, 0, sizeof(config));
	config.endpoint.ptr = "firmware-test";
	config.endpoint.len = 13;
	config.lwm2m_version = 11;
	config.servers = &server;
	config.server_count = 1;
	memset(&platform, 0, sizeof(platform));
	platform.open = on_open;
	platform.send = on_send;
	platform.random = on_random;
	platform.event = on_event;
	CHECK(tern_client_init(&storage, sizeof(storage), &config, &platform, &client) == TERN_STATUS_OK);

	/* The sink is checked; object 5 is the library's. */
	tern_firmware_sink_t sink = {NULL, fw_open, fw_write, fw_finish, NULL, NULL};
	CHECK(tern_client_set_firmware_sink(NULL, &sink, 1) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_firmware_sink(client, NULL, 1) == TERN_STATUS_NULL_ARG);
	CHECK(tern_client_set_firmware_sink(client, &sink, 1) == TERN_STATUS_NULL_ARG);
	sink.update = fw_update;
	CHECK(tern_client_set_firmware_sink(client, &sink, 3) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_firmware_sink(client, &sink, 1) == TERN_STATUS_OK);
	static const tern_resource_def_t row = {.id = 0, .type = TERN_TYPE_OPAQUE, .operations = TERN_OP_W};
	static const tern_object_def_t five = {.id = 5, .version_major = 1, .resources = &row, .resource_count = 1};
	CHECK(tern_client_add_object(client, &five, NULL, NULL, 0) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_firmware_result(client, 1) == TERN_STATUS_BAD_STATE);

	/* Register: the object list has </5/0>; answered 2.01 Location-Path rd/1. */
	CHECK(tern_client_step(client, 1000, &next) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x02 && contains("</5/0>"));
	size_t tkl = last[0] & 0x0f;
	msg[0] = (uint8_t)(0x60 | tkl);
	msg[1] = 0x41;
	msg[2] = last[2];
	msg[3] = last[3];
	memcpy(msg + 4, last + 4, tkl);
	memcpy(msg + 4 + tkl, (const uint8_t[]){0x82, 'r', 'd', 0x01, '1'}, 5);
	CHECK(tern_client_input(client, &server_conn, msg, 9 + tkl, 1000) == TERN_STATUS_OK);

	/* Push: PUT /5/0/0 opaque (42) "firmware!": 2.04, Downloaded. */
	static const uint8_t push[] = {0x42, 0x03, 0x20, 0x01, 0xaa, 0x01, 0xb1, '5', 0x01, '0', 0x01, '0',
				       0x11, 42,   0xff, 'f',  'i',  'r',  'm',  'w',  'a',  'r',  'e',  '!'};
	sends = 0;
	CHECK(tern_client_input(client, &server_conn, push, sizeof(push), 1100) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x44);
	CHECK(opens == 1 && finishes == 1 && package_len == 9 && memcmp(package, "firmware!", 9) == 0);
	CHECK(state_events == 1 && last_state == 2 && last_result == 0);
	uint8_t state = 9, result = 9;
	uint32_t received = 0, total = 0;
	CHECK(tern_client_firmware_status(client, &state, &result, &received, &total) == TERN_STATUS_OK);
	CHECK(state == 2 && result == 0 && received == 9 && total == 9);
	CHECK(tern_client_firmware_status(client, NULL, NULL, NULL, NULL) == TERN_STATUS_OK);

	/* Execute /5/0/2: 2.04, then the update callback; the result ends in Idle, 1. */
	static const uint8_t update[] = {0x42, 0x02, 0x20, 0x02, 0xaa, 0x02, 0xb1, '5', 0x01, '0', 0x01, '2'};
	sends = 0;
	CHECK(tern_client_input(client, &server_conn, update, sizeof(update), 1200) == TERN_STATUS_OK);
	CHECK(sends == 1 && last[1] == 0x44 && updates == 1 && last_state == 3);
	CHECK(tern_client_firmware_result(client, 4) == TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_firmware_result(client, 1) == TERN_STATUS_OK);
	CHECK(last_state == 0 && last_result == 1);
	CHECK(tern_client_firmware_status(client, &state, &result, NULL, NULL) == TERN_STATUS_OK);
	CHECK(state == 0 && result == 1);
	/* Not again: 4.05. */
	static const uint8_t update_again[] = {0x42, 0x02, 0x20, 0x03, 0xaa, 0x03, 0xb1, '5', 0x01, '0', 0x01, '2'};
	CHECK(tern_client_input(client, &server_conn, update_again, sizeof(update_again), 1300) == TERN_STATUS_OK);
	CHECK(last[1] == 0x85);

	/* Pull: PUT /5/0/1 text "coap://127.0.0.1:9/fw": a connection to it, then a GET. */
	static const uint8_t pull[] = {0x42, 0x03, 0x20, 0x04, 0xaa, 0x04, 0xb1, '5', 0x01, '0', 0x01, '1', 0x10, 0xff,
				       'c',  'o',  'a',  'p',  ':',  '/',  '/',  '1',  '2',  '7', '.',  '0', '.',  '0',
				       '.',  '1',  ':',  '9',  '/',  'f',  'w'};
	sends = 0;
	CHECK(tern_client_input(client, &server_conn, pull, sizeof(pull), 1400) == TERN_STATUS_OK);
	CHECK(last[1] == 0x44 && last_state == 1);
	CHECK(strcmp(opened_uri, "coap://127.0.0.1:9/fw") == 0 && opened_security == 65535);
	CHECK(tern_client_step(client, 1400, &next) == TERN_STATUS_OK);
	CHECK(last_conn == &download_conn && last[0] == 0x48 && last[1] == 0x01 && contains("fw"));
	/* 2.05 with Block2 (num 0, last, 256 bytes) and "abc". */
	tkl = last[0] & 0x0f;
	msg[0] = (uint8_t)(0x60 | tkl);
	msg[1] = 0x45;
	msg[2] = last[2];
	msg[3] = last[3];
	memcpy(msg + 4, last + 4, tkl);
	memcpy(msg + 4 + tkl, (const uint8_t[]){0xd1, 0x0a, 0x04, 0xff, 'a', 'b', 'c'}, 7);
	CHECK(tern_client_input(client, &server_conn, msg, 11 + tkl, 1500) == TERN_STATUS_OK);
	CHECK(progress_events == 0 && last_state == 1); /* not on the server's connection */
	CHECK(tern_client_input(client, &download_conn, msg, 11 + tkl, 1500) == TERN_STATUS_OK);
	CHECK(progress_events == 1 && last_progress == 3);
	CHECK(last_state == 2 && package_len == 3 && memcmp(package, "abc", 3) == 0);

	/* PkgName and PkgVersion, as a text Read of /5/0/7 shows. */
	CHECK(tern_client_set_firmware_package(client, (tern_str_t){"app", 3}, (tern_str_t){"\xff", 1}) ==
	      TERN_STATUS_INVALID_ARG);
	CHECK(tern_client_set_firmware_package(client, (tern_str_t){"app", 3}, (tern_str_t){"2.0.1", 5}) ==
	      TERN_STATUS_OK);
	static const uint8_t read_version[] = {0x42, 0x01, 0x20, 0x05, 0xaa, 0x05, 0xb1, '5', 0x01, '0', 0x01, '7'};
	CHECK(tern_client_input(client, &server_conn, read_version, sizeof(read_version), 1600) == TERN_STATUS_OK);
	CHECK(last[1] == 0x45 && last_len >= 5 && memcmp(last + last_len - 5, "2.0.1", 5) == 0);

	/* A Package URI whose connection cannot be opened: back to Idle, Update Result 7. */
	static const uint8_t reset[] = {0x42, 0x03, 0x20, 0x06, 0xaa, 0x06, 0xb1, '5', 0x01, '0', 0x01, '1', 0x10};
	CHECK(tern_client_input(client, &server_conn, reset, sizeof(reset), 1700) == TERN_STATUS_OK);
	CHECK(last[1] == 0x44 && last_state == 0 && last_result == 0);
	static const uint8_t bad[] = {0x42, 0x03, 0x20, 0x07, 0xaa, 0x07, 0xb1, '5', 0x01, '0', 0x01, '1', 0x10, 0xff,
				      'c',  'o',  'a',  'p',  ':',  '/',  '/',  'u',  'n',  'r', 'e',  'a', 'c',  'h',
				      'a',  'b',  'l',  'e'};
	CHECK(tern_client_input(client, &server_conn, bad, sizeof(bad), 1800) == TERN_STATUS_OK);
	CHECK(last[1] == 0x44 && last_state == 0 && last_result == 7);

	CHECK(tern_client_close(client) == TERN_STATUS_OK);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
