/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* The platform DTLS's pre-shared keys and the first half of its `open` (see platform_psk.h). */
#include "platform_psk.h"
#include "udp.h"

#include <stdio.h>
#include <string.h>

/* -i and -k: for every Security instance without keys of its own. */
static struct psk factory;
/* The keys a bootstrap server wrote, by Security instance (tern's credentials callback). */
static struct psk written[PLATFORM_DTLS_CONNECTIONS];

static int psk_set(struct psk *p, uint16_t instance, const uint8_t *identity, size_t identity_len,
		   const uint8_t *key, size_t key_len)
{
	if (identity_len == 0 || identity_len > TERN_EXAMPLE_PSK_MAX || memchr(identity, 0, identity_len) != NULL ||
	    key_len == 0 || key_len > TERN_EXAMPLE_PSK_MAX) {
		return -1;
	}
	memcpy(p->identity, identity, identity_len);
	p->identity[identity_len] = '\0';
	memcpy(p->key, key, key_len);
	p->key_len = key_len;
	p->instance = instance;
	p->set = true;
	return 0;
}

int platform_dtls_set_psk(const char *identity, const uint8_t *key, size_t key_len)
{
	return psk_set(&factory, 0, (const uint8_t *)identity, strlen(identity), key, key_len);
}

tern_status_t platform_dtls_credentials(void *user, const tern_credentials_t *credentials)
{
	struct psk *slot = NULL;

	(void)user;
	if (credentials->mode != 0) {
		fprintf(stderr, "platform dtls: security mode %u not supported\n", credentials->mode);
		return TERN_STATUS_INVALID_ARG;
	}
	for (size_t i = 0; i < PLATFORM_DTLS_CONNECTIONS; i++) {
		bool same = written[i].set && written[i].instance == credentials->security_instance;
		if (same || (slot == NULL && !written[i].set)) {
			slot = &written[i];
		}
	}
	if (slot == NULL || psk_set(slot, credentials->security_instance, credentials->identity,
				    credentials->identity_len, credentials->key, credentials->key_len) != 0) {
		return TERN_STATUS_INVALID_ARG;
	}
	printf("platform dtls: keys for security instance %u (identity %s)\n", credentials->security_instance,
	       slot->identity);
	return TERN_STATUS_OK;
}

const struct psk *platform_psk_for(uint16_t instance)
{
	for (size_t i = 0; i < PLATFORM_DTLS_CONNECTIONS; i++) {
		if (written[i].set && written[i].instance == instance) {
			return &written[i];
		}
	}
	return factory.set ? &factory : NULL;
}

tern_status_t platform_open_udp(void *user, const char *uri, size_t uri_len, uint16_t instance, void *slots,
				size_t count, size_t size, void **slot, const struct psk **keys)
{
	static const char coaps[] = "coaps://";
	void **udp = NULL;

	*keys = NULL;
	for (size_t i = 0; i < count && udp == NULL; i++) {
		/* The slot's first member, its UDP connection. */
		void **first = (void **)((char *)slots + i * size);
		udp = *first == NULL ? first : NULL;
	}
	if (udp == NULL) {
		return TERN_STATUS_NO_SPACE;
	}
	tern_status_t st = udp_open(user, uri, uri_len, instance, udp);
	if (st != TERN_STATUS_OK) {
		*udp = NULL;
		return st;
	}
	if (uri_len > sizeof(coaps) - 1 && memcmp(uri, coaps, sizeof(coaps) - 1) == 0) {
		*keys = platform_psk_for(instance);
		if (*keys == NULL) {
			fprintf(stderr, "platform dtls: no key for security instance %u\n", instance);
			udp_close(user, *udp);
			*udp = NULL;
			return TERN_STATUS_IO;
		}
	}
	*slot = udp;
	return TERN_STATUS_OK;
}
