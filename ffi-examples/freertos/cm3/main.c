/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * A tern client in a FreeRTOS task on a Cortex-M3 (QEMU mps2-an385): the Device object and
 * an IPSO Temperature sensor (../../posix/temperature.c), talking to a real LwM2M server on
 * the host through SLIP frames on UART0 (slip.c) that a host relay carries over UDP
 * (slip-relay.py). It registers, serves the server, notifies its observers when the
 * temperature moves, de-registers RUN_MS after registering and ends the QEMU run with
 * status 0 when all of that went cleanly. Console output goes over semihosting.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "slip.h"
#include "temperature.h"
#include "tern.h"

#define ENDPOINT "tern-freertos-cm3"
/* The relay delivers every frame to the one server, whatever the URI says. */
#define SERVER_URI "coap://127.0.0.1:5683"
#define LIFETIME_S 60u
#define RUN_MS 8000u
#define DEREGISTER_TIMEOUT_MS 10000u
/* Words of stack for the client task: tern_client_step needs about 2 KB, printf 1 KB more. */
#define CLIENT_STACK_WORDS 2048u

struct app {
	int registered;
	int ever_registered;
	uint64_t registered_at;
	unsigned notifications_signalled;
};

static struct app app;

void vAssertCalled(const char *file, unsigned long line)
{
	printf("FreeRTOS assertion failed at %s:%lu\n", file, line);
	exit(98);
}

static uint64_t now_ms(void)
{
	/* The client task is the only caller: widens the 32-bit tick count past its wrap. */
	static uint64_t wraps;
	static TickType_t last;
	TickType_t now = xTaskGetTickCount();

	if (now < last) {
		wraps += (uint64_t)portMAX_DELAY + 1u;
	}
	last = now;
	return (wraps + now) * portTICK_PERIOD_MS;
}

/* tern's critical section: the kernel's, usable from tasks and interrupts alike. */
static uint32_t critical_enter(void *user)
{
	(void)user;
	return (uint32_t)taskENTER_CRITICAL_FROM_ISR();
}

static void critical_exit(void *user, uint32_t state)
{
	(void)user;
	taskEXIT_CRITICAL_FROM_ISR((UBaseType_t)state);
}

static tern_status_t link_open(void *user, const char *uri, size_t uri_len, uint16_t security_instance,
			       void **connection)
{
	static int link;

	(void)user;
	(void)uri;
	(void)uri_len;
	(void)security_instance;
	*connection = &link;
	return TERN_STATUS_OK;
}

static tern_status_t link_send(void *user, void *connection, const uint8_t *data, size_t len)
{
	(void)user;
	(void)connection;
	slip_send(data, len);
	return TERN_STATUS_OK;
}

static tern_status_t link_recv(void *user, void *connection, uint8_t *buffer, size_t capacity, size_t *len)
{
	(void)user;
	(void)connection;
	*len = slip_take(buffer, capacity);
	return *len > 0 ? TERN_STATUS_OK : TERN_STATUS_WOULD_BLOCK;
}

static void link_close(void *user, void *connection)
{
	(void)user;
	(void)connection;
}

/* No entropy source on this machine: xorshift32 from the tick count (tokens need not be
 * secret here; a product uses its TRNG). */
static void random_bytes(void *user, uint8_t *buffer, size_t len)
{
	static uint32_t state;

	(void)user;
	if (state == 0) {
		state = 0x9E3779B9u ^ (uint32_t)xTaskGetTickCount();
	}
	for (size_t i = 0; i < len; i++) {
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		buffer[i] = (uint8_t)state;
	}
}

static void on_log(void *user, tern_log_level_t level, const char *message, uint8_t server, uint32_t value)
{
	(void)user;
	if (level <= TERN_LOG_WARN) {
		printf("tern: [log %d] %s (server %u, %" PRIu32 ")\n", (int)level, message, server, value);
	}
}

static void on_event(void *user, const tern_event_t *event)
{
	struct app *a = user;

	switch (event->kind) {
	case TERN_EVENT_REGISTERED:
		printf("tern: registered\n");
		a->registered = 1;
		a->ever_registered = 1;
		a->registered_at = now_ms();
		break;
	case TERN_EVENT_DEREGISTERED:
		printf("tern: deregistered\n");
		a->registered = 0;
		break;
	case TERN_EVENT_REGISTRATION_REJECTED:
		printf("tern: registration rejected (%u)\n", event->code);
		break;
	case TERN_EVENT_UPDATED:
		printf("tern: registration updated\n");
		break;
	default:
		break;
	}
}

/* Reads the UART while a frame comes, steps the client, sleeps a tick when idle. */
static void client_task(void *param)
{
	static tern_client_storage_t storage;
	static const uint16_t temperature_instances[] = {0};
	static const uint16_t sensor_value[] = {3303, 0, 5700};
	const tern_server_config_t server = {
		.uri = {SERVER_URI, sizeof(SERVER_URI) - 1},
		.short_server_id = 1,
		.lifetime_s = LIFETIME_S,
	};
	const tern_config_t config = {
		.endpoint = {ENDPOINT, sizeof(ENDPOINT) - 1},
		.lwm2m_version = 11,
		.update_margin_s = 10,
		.servers = &server,
		.server_count = 1,
		.manufacturer = {"tern", 4},
		.model = {"tern-freertos-cm3", 17},
		.serial = {"0001", 4},
		.firmware_version = {"0.1.0", 5},
	};
	const tern_platform_t platform = {
		.user = &app,
		.open = link_open,
		.send = link_send,
		.recv = link_recv,
		.close = link_close,
		.random = random_bytes,
		.log = on_log,
		.event = on_event,
	};
	tern_client_t *client = NULL;
	uint64_t stop_at = 0;

	(void)param;
	if (tern_client_init(&storage, sizeof(storage), &config, &platform, &client) != TERN_STATUS_OK ||
	    tern_client_add_object(client, &temperature_object, NULL, temperature_instances, 1) != TERN_STATUS_OK) {
		printf("tern: client set-up failed\n");
		exit(1);
	}
	printf("tern: client %s, %u bytes of client storage\n", ENDPOINT, (unsigned)tern_client_storage_size());
	const uint64_t start = now_ms();
	for (;;) {
		uint64_t now = now_ms();
		uint64_t next = UINT64_MAX;

		if (temperature_sample(now - start)) {
			tern_resource_changed(client, sensor_value, 3);
			app.notifications_signalled++;
		}
		slip_poll(1);
		tern_client_step(client, now, &next);
		if (app.registered && stop_at == 0 && now >= app.registered_at + RUN_MS) {
			printf("tern: deregistering (%u temperature changes signalled)\n", app.notifications_signalled);
			tern_client_deregister(client);
			stop_at = now + DEREGISTER_TIMEOUT_MS;
		}
		if (stop_at != 0 && (tern_client_is_idle(client) || now >= stop_at)) {
			break;
		}
		vTaskDelay(1);
	}
	int clean = app.ever_registered && !app.registered && tern_client_is_idle(client);
	tern_client_close(client);
	printf("tern: done (%s)\n", clean ? "clean" : "not clean");
	exit(clean ? 0 : 1);
}

int main(void)
{
	static StackType_t stack[CLIENT_STACK_WORDS];
	static StaticTask_t task;

	slip_init();
	if (tern_set_critical_section(critical_enter, critical_exit, NULL) != TERN_STATUS_OK) {
		return 1;
	}
	xTaskCreateStatic(client_task, "tern", CLIENT_STACK_WORDS, NULL, tskIDLE_PRIORITY + 1, stack, &task);
	vTaskStartScheduler();
	return 1; /* the scheduler never returns */
}
