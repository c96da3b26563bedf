/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The tern sample client: the Device object (tern's own, from tern_config_t) and an IPSO
 * Temperature object (3303) registered with CONFIG_TERN_SAMPLE_SERVER_URI. The value
 * changes every half second; observations of it notify. With
 * CONFIG_TERN_SAMPLE_DEREGISTER_AFTER the client de-registers after that many seconds.
 * Built with CONFIG_TERN=n it is the same application without tern (the size baseline).
 */
#include <errno.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

LOG_MODULE_REGISTER(sample, LOG_LEVEL_INF);

#ifdef CONFIG_TERN
#include "temperature.h"
#include "tern.h"
#include "tern_zephyr.h"

#ifdef CONFIG_TERN_ZEPHYR_TLS
#include <string.h>

#include <zephyr/net/tls_credentials.h>
#include <zephyr/sys/util.h>
#endif

#define STR(s) {.ptr = (s), .len = sizeof(s) - 1}

static const tern_server_config_t server = {
	.uri = STR(CONFIG_TERN_SAMPLE_SERVER_URI),
	.short_server_id = 1,
	.lifetime_s = CONFIG_TERN_SAMPLE_LIFETIME,
};

static const tern_config_t config = {
	.endpoint = STR(CONFIG_TERN_SAMPLE_ENDPOINT),
	.lwm2m_version = 11,
	.update_margin_s = 10,
	.servers = &server,
	.server_count = sizeof(CONFIG_TERN_SAMPLE_SERVER_URI) > 1 ? 1 : 0,
	.manufacturer = STR("tern"),
	.model = STR("zephyr-sample"),
	.serial = STR("0001"),
	.firmware_version = STR("1.0"),
#ifdef CONFIG_TERN_SAMPLE_BOOTSTRAP_URI
	.bootstrap_uri = STR(CONFIG_TERN_SAMPLE_BOOTSTRAP_URI),
#endif
};

static void on_event(void *user, const tern_event_t *event)
{
	(void)user;
	switch (event->kind) {
	case TERN_EVENT_REGISTERED:
		LOG_INF("registered with server %u", event->server);
		break;
	case TERN_EVENT_UPDATED:
		LOG_INF("registration updated");
		break;
	case TERN_EVENT_DEREGISTERED:
		LOG_INF("de-registered");
		break;
	case TERN_EVENT_BOOTSTRAPPED:
		LOG_INF("bootstrapped");
		break;
	case TERN_EVENT_REBOOT_REQUESTED:
		LOG_INF("the server asked for a reboot");
		break;
	default:
		LOG_INF("event %u (code %u, value %u)", event->kind, event->code, event->value);
		break;
	}
}

#ifdef CONFIG_TERN_ZEPHYR_TLS
/* The factory keys of the coaps:// server: its Security instance is 0, so its sec_tag is
 * CONFIG_TERN_ZEPHYR_SEC_TAG_BASE. tls_credential_add() keeps a reference: static storage. */
static int add_psk(void)
{
	static const char identity[] = CONFIG_TERN_SAMPLE_PSK_IDENTITY;
	static const char hex[] = CONFIG_TERN_SAMPLE_PSK;
	static uint8_t key[32];
	sec_tag_t tag = CONFIG_TERN_ZEPHYR_SEC_TAG_BASE;

	if (sizeof(identity) == 1) {
		return 0;
	}
	size_t key_len = hex2bin(hex, strlen(hex), key, sizeof(key));

	if (key_len == 0 || key_len * 2 != strlen(hex)) {
		LOG_ERR("CONFIG_TERN_SAMPLE_PSK is not 1 to %u bytes of hex", (unsigned)sizeof(key));
		return -EINVAL;
	}
	int err = tls_credential_add(tag, TLS_CREDENTIAL_PSK_ID, identity, sizeof(identity) - 1);

	if (err == 0) {
		err = tls_credential_add(tag, TLS_CREDENTIAL_PSK, key, key_len);
	}
	if (err != 0) {
		LOG_ERR("tls_credential_add(%d): %d", tag, err);
		return err;
	}
	LOG_INF("PSK identity %s in sec_tag %d", identity, tag);
	return 0;
}
#endif

int main(void)
{
	static const uint16_t instance = 0;
	tern_client_t *client;

#ifdef CONFIG_TERN_ZEPHYR_TLS
	if (add_psk() != 0) {
		return 0;
	}
#endif
	int err = tern_zephyr_init(&config, on_event, NULL, &client);

	if (err != 0) {
		LOG_ERR("tern_zephyr_init: %d", err);
		return 0;
	}
	tern_status_t status = tern_client_add_object(client, &temperature_object, NULL, &instance, 1);

	if (status != TERN_STATUS_OK) {
		LOG_ERR("tern_client_add_object: %s", tern_status_str(status));
		return 0;
	}
	LOG_INF("endpoint %s, server %s", CONFIG_TERN_SAMPLE_ENDPOINT,
		sizeof(CONFIG_TERN_SAMPLE_SERVER_URI) > 1 ? CONFIG_TERN_SAMPLE_SERVER_URI : "(none)");
#ifdef CONFIG_TERN_SAMPLE_BOOTSTRAP_URI
	if (sizeof(CONFIG_TERN_SAMPLE_BOOTSTRAP_URI) > 1) {
		LOG_INF("bootstrap server %s", CONFIG_TERN_SAMPLE_BOOTSTRAP_URI);
	}
#endif
	tern_zephyr_start();

	for (;;) {
		k_sleep(K_MSEC(500));
		int64_t now = k_uptime_get();

		if (temperature_sample((uint64_t)now)) {
#ifdef CONFIG_TERN_OBSERVE
			static const uint16_t path[] = {3303, 0, 5700};

			(void)tern_resource_changed(client, path, 3);
			tern_zephyr_kick();
#endif
		}
		if (CONFIG_TERN_SAMPLE_DEREGISTER_AFTER > 0 && now >= CONFIG_TERN_SAMPLE_DEREGISTER_AFTER * 1000LL) {
			err = tern_zephyr_stop(10000);
			LOG_INF("stopped: %s", err == 0 ? "de-registered" : err == -EBUSY ? "engine busy" : "timed out");
			break;
		}
	}
	return 0;
}
#else
int main(void)
{
	LOG_INF("built without tern (CONFIG_TERN=n)");
	return 0;
}
#endif
