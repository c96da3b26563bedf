/*
 * Size-measurement and smoke-test image: uses the C API the way an application does, so
 * that LTO and --gc-sections keep what an application keeps, and runs a registration
 * scenario on QEMU (mps2-an386) against a scripted server.
 *
 * Scenario: Register (answered 2.01 with Location-Path rd/1), a server Read of /3/0/0
 * (expects 2.05 with the manufacturer "tern"), a Read of /3303/0/5700 (the application's
 * temperature object), then De-register (answered 2.02). With the library's DTLS
 * (TERN_MAX_DTLS_SESSIONS > 0), then two handshakes recorded with real servers
 * (tests/dtls/handshakes/: OpenSSL with a pre-shared key, GnuTLS with raw public keys) are
 * replayed to a client secured the way an application secures one, each with the stack it
 * took measured. Exit status 0 on success.
 */
#include <stdint.h>
#include <stdio.h>

/* Integer-only printf: the image measures the library, not newlib's float formatting. */
int iprintf(const char *format, ...);
#define printf iprintf
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "tern.h"

#if TERN_MAX_DTLS_SESSIONS > 0
#include "psk.h"
#endif
#if TERN_MAX_DTLS_SESSIONS > 0 && defined(TERN_SIZE_RPK)
#include "rpk.h"
#endif

#define FAIL(...)                                                      \
    do {                                                               \
        printf("FAIL: " __VA_ARGS__);                                  \
        printf("\n");                                                  \
        return 1;                                                      \
    } while (0)

/* ---- the client's storage: static, in the application's bss ---- */
static tern_client_storage_t storage;

/* ---- a scripted network: one connection, one datagram queued each way ---- */
struct net {
    int opened;
    int closed;
    unsigned sent_count;
    uint8_t sent[TERN_MAX_MESSAGE_SIZE];
    size_t sent_len;
    uint8_t rx[TERN_MAX_MESSAGE_SIZE];
    size_t rx_len;
    int rx_pending;
    uint32_t rng;
    unsigned registered, deregistered, other_events;
    /* A handshake replayed: what `random` returns, and the datagrams the client must send
     * (each is compared as it goes out; what follows them is counted apart). */
    const uint8_t *fixed_random;
    const struct recorded_datagram *expect;
    size_t expect_count, expect_next;
    unsigned mismatches, after;
    uint8_t after_type;
};
static struct net net;
static int dummy_connection;

static void hexdump(const char *what, const uint8_t *p, size_t n)
{
    printf("  %s %u bytes:", what, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        if (i % 24 == 0) {
            printf("\n   ");
        }
        printf(" %02x", p[i]);
    }
    printf("\n");
}

static tern_status_t on_open(void *user, const char *uri, size_t uri_len, uint16_t security_instance,
                             void **connection)
{
    struct net *n = user;
    (void)security_instance;
    printf("open %.*s\n", (int)uri_len, uri);
    n->opened++;
    *connection = &dummy_connection;
    return TERN_STATUS_OK;
}

static tern_status_t on_send(void *user, void *connection, const uint8_t *data, size_t len)
{
    struct net *n = user;
    if (connection != &dummy_connection || len > sizeof n->sent) {
        return TERN_STATUS_IO;
    }
#if TERN_MAX_DTLS_SESSIONS > 0
    if (n->expect && n->expect_next < n->expect_count) {
        const struct recorded_datagram *d = &n->expect[n->expect_next++];
        if (d->len != len || memcmp(d->data, data, len) != 0) {
            printf("datagram %u differs from the recording\n", (unsigned)n->expect_next);
            n->mismatches++;
        }
    } else if (n->expect) {
        n->after++;
        n->after_type = len ? data[0] : 0;
    }
#endif
    memcpy(n->sent, data, len);
    n->sent_len = len;
    n->sent_count++;
    return TERN_STATUS_OK;
}

static tern_status_t on_recv(void *user, void *connection, uint8_t *buffer, size_t capacity, size_t *len)
{
    struct net *n = user;
    if (connection != &dummy_connection || !n->rx_pending) {
        return TERN_STATUS_WOULD_BLOCK;
    }
    n->rx_pending = 0;
    if (n->rx_len > capacity) {
        return TERN_STATUS_WOULD_BLOCK; /* dropped, as the contract says */
    }
    memcpy(buffer, n->rx, n->rx_len);
    *len = n->rx_len;
    return TERN_STATUS_OK;
}

static void on_close(void *user, void *connection)
{
    struct net *n = user;
    (void)connection;
    n->closed++;
}

static void on_random(void *user, uint8_t *buffer, size_t len)
{
    struct net *n = user;
    if (n->fixed_random) {
        for (size_t i = 0; i < len; i++) {
            buffer[i] = n->fixed_random[i % 64];
        }
        return;
    }
    for (size_t i = 0; i < len; i++) {
        n->rng = n->rng * 1103515245u + 12345u;
        buffer[i] = (uint8_t)(n->rng >> 16);
    }
}

static void on_log(void *user, tern_log_level_t level, const char *message, uint8_t server, uint32_t value)
{
    (void)user;
    printf("log[%u] server %u: %s (%lu)\n", (unsigned)level, (unsigned)server, message, (unsigned long)value);
}

static void on_event(void *user, const tern_event_t *e)
{
    struct net *n = user;
    printf("event %u server %u code %u value %lu\n", (unsigned)e->kind, (unsigned)e->server, (unsigned)e->code,
           (unsigned long)e->value);
    if (e->kind == TERN_EVENT_REGISTERED) {
        n->registered++;
    } else if (e->kind == TERN_EVENT_DEREGISTERED) {
        n->deregistered++;
    } else {
        n->other_events++;
    }
}

static void panic_hook(void)
{
    printf("FAIL: library panic\n");
    _exit(2);
}

/* ---- the application's object: a temperature sensor (IPSO 3303) ---- */
static const tern_resource_def_t temperature_resources[] = {
    {.id = 5700, .type = TERN_TYPE_FLOAT, .operations = TERN_OP_R, .multiple = false},  /* Sensor Value */
    {.id = 5701, .type = TERN_TYPE_STRING, .operations = TERN_OP_R, .multiple = false}, /* Sensor Units */
};

static tern_status_t temperature_read(void *user, uint16_t instance, uint16_t resource, size_t index,
                                      uint16_t *resource_instance, tern_value_t *value)
{
    static const char units[] = "Cel";
    (void)user;
    (void)index;
    (void)resource_instance;
    if (instance != 0) {
        return TERN_STATUS_NOT_FOUND;
    }
    switch (resource) {
    case 5700:
        value->type = TERN_TYPE_FLOAT;
        value->f = 21.5;
        return TERN_STATUS_OK;
    case 5701:
        value->type = TERN_TYPE_STRING;
        value->data = (const uint8_t *)units;
        value->len = sizeof units - 1;
        return TERN_STATUS_OK;
    default:
        return TERN_STATUS_NOT_FOUND;
    }
}

static const tern_object_def_t temperature_object = {
    .id = 3303,
    .version_major = 1,
    .version_minor = 0,
    .resources = temperature_resources,
    .resource_count = sizeof temperature_resources / sizeof temperature_resources[0],
    .read = temperature_read,
    .write = NULL,
    .execute = NULL,
};

/* ---- a little CoAP, for the scripted server ---- */
struct coap {
    uint8_t type, code, tkl;
    uint16_t mid;
    const uint8_t *token;
    char uri_path[64];       /* "/a/b" */
    char location_path[64];  /* "/a/b" */
    const uint8_t *payload;
    size_t payload_len;
};

static int append_path(char *dst, size_t cap, const uint8_t *seg, size_t len)
{
    size_t used = strlen(dst);
    if (used + 1 + len + 1 > cap) {
        return -1;
    }
    dst[used] = '/';
    memcpy(dst + used + 1, seg, len);
    dst[used + 1 + len] = '\0';
    return 0;
}

static int coap_parse(const uint8_t *p, size_t n, struct coap *m)
{
    memset(m, 0, sizeof *m);
    if (n < 4 || (p[0] >> 6) != 1) {
        return -1;
    }
    m->type = (p[0] >> 4) & 3;
    m->tkl = p[0] & 15;
    m->code = p[1];
    m->mid = (uint16_t)((p[2] << 8) | p[3]);
    if (m->tkl > 8 || 4u + m->tkl > n) {
        return -1;
    }
    m->token = p + 4;
    size_t i = 4u + m->tkl;
    unsigned number = 0;
    while (i < n) {
        if (p[i] == 0xff) {
            m->payload = p + i + 1;
            m->payload_len = n - i - 1;
            return m->payload_len ? 0 : -1;
        }
        unsigned delta = p[i] >> 4, len = p[i] & 15;
        i++;
        unsigned *fields[2] = {&delta, &len};
        for (int f = 0; f < 2; f++) {
            if (*fields[f] == 13) {
                if (i + 1 > n) return -1;
                *fields[f] = 13u + p[i];
                i += 1;
            } else if (*fields[f] == 14) {
                if (i + 2 > n) return -1;
                *fields[f] = 269u + (unsigned)((p[i] << 8) | p[i + 1]);
                i += 2;
            } else if (*fields[f] == 15) {
                return -1;
            }
        }
        if (i + len > n) {
            return -1;
        }
        number += delta;
        if (number == 11 && append_path(m->uri_path, sizeof m->uri_path, p + i, len)) return -1;
        if (number == 8 && append_path(m->location_path, sizeof m->location_path, p + i, len)) return -1;
        i += len;
    }
    return 0;
}

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k && i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Queues a piggybacked ACK to `req` with `code` and optional Location-Path rd/1. */
static void queue_ack(const struct coap *req, uint8_t code, int with_location)
{
    uint8_t *p = net.rx;
    size_t i = 0;
    p[i++] = (uint8_t)(0x60 | req->tkl); /* ver 1, ACK */
    p[i++] = code;
    p[i++] = (uint8_t)(req->mid >> 8);
    p[i++] = (uint8_t)req->mid;
    memcpy(p + i, req->token, req->tkl);
    i += req->tkl;
    if (with_location) {
        p[i++] = 0x82; /* Location-Path (8), 2 bytes */
        p[i++] = 'r';
        p[i++] = 'd';
        p[i++] = 0x01; /* Location-Path again, 1 byte */
        p[i++] = '1';
    }
    net.rx_len = i;
    net.rx_pending = 1;
    hexdump("server ->", net.rx, net.rx_len);
}

static const uint8_t read_token[2] = {0xab, 0xcd};

/* Queues a CON GET with the given Uri-Path segments. */
static void queue_get(uint16_t mid, const char *const *segments, size_t count)
{
    uint8_t *p = net.rx;
    size_t i = 0;
    p[i++] = 0x40 | sizeof read_token; /* ver 1, CON */
    p[i++] = 0x01;                     /* GET */
    p[i++] = (uint8_t)(mid >> 8);
    p[i++] = (uint8_t)mid;
    memcpy(p + i, read_token, sizeof read_token);
    i += sizeof read_token;
    for (size_t s = 0; s < count; s++) {
        size_t len = strlen(segments[s]);
        p[i++] = (uint8_t)(((s == 0 ? 11 : 0) << 4) | len); /* Uri-Path (11); segments < 13 bytes */
        memcpy(p + i, segments[s], len);
        i += len;
    }
    net.rx_len = i;
    net.rx_pending = 1;
    hexdump("server ->", net.rx, net.rx_len);
}

/* ---- stack measurement: paint below the caller, call the library, look how deep it went ---- */
extern uint32_t __stack_limit;
#define STACK_PAINT 0x5a5aa5a5u
static size_t stack_max;

static inline uintptr_t current_sp(void)
{
    uintptr_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

__attribute__((noinline)) static void paint_stack(uintptr_t below)
{
    for (uint32_t *w = &__stack_limit; (uintptr_t)w < below - 256; w++) {
        *w = STACK_PAINT;
    }
}

static void measure_stack(uintptr_t base)
{
    uint32_t *w = &__stack_limit;
    while ((uintptr_t)w < base && *w == STACK_PAINT) {
        w++;
    }
    size_t used = base - (uintptr_t)w;
    if (used > stack_max) {
        stack_max = used;
    }
}

static uint64_t now_ms;

/* One tern_client_step, with the library's stack use recorded. */
static tern_status_t step(tern_client_t *client)
{
    uint64_t next = 0;
    uintptr_t base = current_sp();
    paint_stack(base);
    tern_status_t st = tern_client_step(client, now_ms, &next);
    measure_stack(base);
    if (st != TERN_STATUS_OK) {
        printf("tern_client_step: %s\n", tern_status_str(st));
    }
    return st;
}

/* Steps with time advancing 100 ms a step until `done()` or `limit` steps. */
static int run_until(tern_client_t *client, int (*done)(void), int limit)
{
    for (int i = 0; i < limit; i++) {
        if (step(client) != TERN_STATUS_OK) {
            return -1;
        }
        if (done()) {
            return 0;
        }
        now_ms += 100;
    }
    return -1;
}

static unsigned expected_sent;
static int sent_something(void) { return net.sent_count >= expected_sent; }
static int is_registered(void) { return net.registered > 0; }
static int is_deregistered(void) { return net.deregistered > 0; }

static int expect_read(tern_client_t *client, uint16_t mid, const char *const *path, size_t count,
                       const char *needle)
{
    expected_sent = net.sent_count + 1;
    queue_get(mid, path, count);
    if (run_until(client, sent_something, 5)) {
        FAIL("no response to the Read");
    }
    hexdump("client ->", net.sent, net.sent_len);
    struct coap rsp;
    if (coap_parse(net.sent, net.sent_len, &rsp)) {
        FAIL("the Read response is not valid CoAP");
    }
    if (rsp.type != 2 || rsp.code != 0x45 || rsp.mid != mid || rsp.tkl != sizeof read_token ||
        memcmp(rsp.token, read_token, sizeof read_token) != 0) {
        FAIL("expected ACK 2.05 mid 0x%04x, got type %u code %u.%02u mid 0x%04x", mid, rsp.type,
             rsp.code >> 5, rsp.code & 31, rsp.mid);
    }
    if (needle && !contains(rsp.payload, rsp.payload_len, needle)) {
        FAIL("the Read payload lacks \"%s\"", needle);
    }
    printf("read ok: 2.05, %u payload bytes\n", (unsigned)rsp.payload_len);
    return 0;
}

#if TERN_MAX_DTLS_SESSIONS > 0
static int sent_after_handshake(void) { return net.after > 0; }

static tern_status_t secure_psk(tern_client_t *client)
{
    return tern_client_set_psk(client, 0, psk_IDENTITY, sizeof psk_IDENTITY, psk_KEY, sizeof psk_KEY);
}

#ifdef TERN_SIZE_RPK
static tern_status_t secure_rpk(tern_client_t *client)
{
    return tern_client_set_rpk(client, 0, rpk_CLIENT_KEY, sizeof rpk_CLIENT_KEY, rpk_SERVER_KEY,
                               sizeof rpk_SERVER_KEY);
}
#endif

/*
 * Replays a recorded handshake to a client whose one server is coaps:// and secured by
 * `secure`: the client random (and the ephemeral key's seed) are the recorded ones, every
 * datagram the client sends must be the recorded one, and once the server's last flight is
 * in, the client sends its Register sealed (application data). `*stack` is the deepest
 * tern_client_step meanwhile.
 */
static int handshake(const char *name, const tern_platform_t *platform, tern_status_t (*secure)(tern_client_t *),
                     const uint8_t fixed_random[64], const struct recorded_datagram *client_flights,
                     size_t client_count, const struct recorded_datagram *server_flights, size_t server_count,
                     size_t *stack)
{
    static const char uri[] = "coaps://192.0.2.1:5684";
    static const char endpoint[] = "tern-qemu";
    static const tern_server_config_t servers[] = {
        {.uri = {uri, sizeof uri - 1}, .short_server_id = 1, .lifetime_s = 300},
    };
    const tern_config_t config = {
        .endpoint = {endpoint, sizeof endpoint - 1},
        .lwm2m_version = 11,
        .servers = servers,
        .server_count = 1,
    };
    tern_client_t *client = NULL;
    tern_status_t st = tern_client_init(&storage, sizeof storage, &config, platform, &client);
    if (st != TERN_STATUS_OK) {
        FAIL("%s: tern_client_init: %s", name, tern_status_str(st));
    }
    st = secure(client);
    if (st != TERN_STATUS_OK) {
        FAIL("%s: securing the server: %s", name, tern_status_str(st));
    }
    net.fixed_random = fixed_random;
    net.expect = client_flights;
    net.expect_count = client_count;
    net.expect_next = net.mismatches = net.after = 0;
    stack_max = 0;
    expected_sent = net.sent_count + 1;
    if (run_until(client, sent_something, 50)) {
        FAIL("%s: no ClientHello within 5 s", name);
    }
    for (size_t i = 0; i < server_count; i++) {
        if (server_flights[i].len > sizeof net.rx) {
            FAIL("%s: the server's datagram %u is longer than the image's buffer", name, (unsigned)i + 1);
        }
        memcpy(net.rx, server_flights[i].data, server_flights[i].len);
        net.rx_len = server_flights[i].len;
        net.rx_pending = 1;
        if (step(client) != TERN_STATUS_OK || net.rx_pending) {
            FAIL("%s: the server's datagram %u was not taken", name, (unsigned)i + 1);
        }
    }
    if (run_until(client, sent_after_handshake, 5)) {
        FAIL("%s: nothing sent after the handshake (%u of %u datagrams)", name, (unsigned)net.expect_next,
             (unsigned)client_count);
    }
    if (net.mismatches || net.expect_next != client_count) {
        FAIL("%s: %u datagrams differ from the recording, %u of %u sent", name, net.mismatches,
             (unsigned)net.expect_next, (unsigned)client_count);
    }
    if (net.after_type != 23) {
        FAIL("%s: after the handshake a record of type %u, not application data", name, net.after_type);
    }
    printf("%s: handshake as recorded, the Register sealed; deepest step %u bytes\n", name, (unsigned)stack_max);
    *stack = stack_max;
    net.fixed_random = NULL;
    net.expect = NULL;
    tern_client_close(client);
    return 0;
}
#endif

int main(void)
{
    printf("tern firmware image: storage %u bytes exact (tern_client_storage_size), "
           "TERN_CLIENT_STORAGE_SIZE %u\n",
           (unsigned)tern_client_storage_size(), (unsigned)TERN_CLIENT_STORAGE_SIZE);
    tern_set_panic_hook(panic_hook);

    static const char uri[] = "coap://192.0.2.1:5683";
    static const char endpoint[] = "tern-qemu";
    static const char manufacturer[] = "tern";
    static const char model[] = "mps2-an386";
    static const char serial[] = "0001";
    static const char fw[] = "0.1.0";
    static const tern_server_config_t servers[] = {
        {.uri = {uri, sizeof uri - 1}, .short_server_id = 1, .lifetime_s = 300},
    };
    const tern_config_t config = {
        .endpoint = {endpoint, sizeof endpoint - 1},
        .lwm2m_version = 11,
        .update_margin_s = 30,
        .servers = servers,
        .server_count = 1,
        .manufacturer = {manufacturer, sizeof manufacturer - 1},
        .model = {model, sizeof model - 1},
        .serial = {serial, sizeof serial - 1},
        .firmware_version = {fw, sizeof fw - 1},
    };
    const tern_platform_t platform = {
        .user = &net,
        .open = on_open,
        .send = on_send,
        .recv = on_recv,
        .close = on_close,
        .random = on_random,
        .log = on_log,
        .event = on_event,
    };
    net.rng = 1;

    tern_client_t *client = NULL;
    tern_status_t st = tern_client_init(&storage, sizeof storage, &config, &platform, &client);
    if (st != TERN_STATUS_OK) {
        FAIL("tern_client_init: %s", tern_status_str(st));
    }
    static const uint16_t instances[] = {0};
    st = tern_client_add_object(client, &temperature_object, NULL, instances, 1);
    if (st != TERN_STATUS_OK) {
        FAIL("tern_client_add_object: %s", tern_status_str(st));
    }

    /* 1. Register. */
    expected_sent = 1;
    if (run_until(client, sent_something, 50)) {
        FAIL("no Register sent within 5 s (opened %d, sent %u)", net.opened, net.sent_count);
    }
    hexdump("client ->", net.sent, net.sent_len);
    struct coap reg;
    if (coap_parse(net.sent, net.sent_len, &reg)) {
        FAIL("the Register is not valid CoAP");
    }
    if (reg.type != 0 || reg.code != 0x02 || strcmp(reg.uri_path, "/rd") != 0) {
        FAIL("expected a CON POST /rd, got type %u code %u.%02u path %s", reg.type, reg.code >> 5, reg.code & 31,
             reg.uri_path);
    }
    if (!contains(reg.payload, reg.payload_len, "</3303/0>")) {
        FAIL("the Register payload does not list </3303/0>");
    }
    printf("register: CON POST /rd mid 0x%04x, %u payload bytes: %.*s\n", reg.mid, (unsigned)reg.payload_len,
           (int)reg.payload_len, (const char *)reg.payload);
    queue_ack(&reg, 0x41, 1); /* 2.01 Created, Location-Path rd/1 */
    if (run_until(client, is_registered, 5)) {
        FAIL("no REGISTERED event after the 2.01 (sent %u datagrams)", net.sent_count);
    }
    printf("registered\n");

    /* 2. Server reads. */
    static const char *const manufacturer_path[] = {"3", "0", "0"};
    if (expect_read(client, 0x1234, manufacturer_path, 3, "tern")) {
        return 1;
    }
    static const char *const temperature_path[] = {"3303", "0", "5700"};
    if (expect_read(client, 0x1235, temperature_path, 3, NULL)) {
        return 1;
    }

    /* 3. De-register. */
    st = tern_client_deregister(client);
    if (st != TERN_STATUS_OK) {
        FAIL("tern_client_deregister: %s", tern_status_str(st));
    }
    expected_sent = net.sent_count + 1;
    if (run_until(client, sent_something, 5)) {
        FAIL("no De-register sent");
    }
    hexdump("client ->", net.sent, net.sent_len);
    struct coap dereg;
    if (coap_parse(net.sent, net.sent_len, &dereg)) {
        FAIL("the De-register is not valid CoAP");
    }
    if (dereg.code != 0x04 || strcmp(dereg.uri_path, "/rd/1") != 0) {
        FAIL("expected DELETE /rd/1, got code %u.%02u path %s", dereg.code >> 5, dereg.code & 31, dereg.uri_path);
    }
    queue_ack(&dereg, 0x42, 0); /* 2.02 Deleted */
    if (run_until(client, is_deregistered, 5)) {
        FAIL("no DEREGISTERED event after the 2.02");
    }
    if (!tern_client_is_idle(client)) {
        FAIL("the client is not idle after de-registration");
    }
    tern_client_close(client);

    printf("deregistered; datagrams sent %u, connections opened %d closed %d, other events %u\n", net.sent_count,
           net.opened, net.closed, net.other_events);
    printf("library stack high-water (deepest tern_client_step): %u bytes\n", (unsigned)stack_max);
    size_t scenario_stack = stack_max, psk_stack = 0, rpk_stack = 0;
#if TERN_MAX_DTLS_SESSIONS > 0
    /* 4. Handshakes, recorded with real servers, replayed. */
    static uint8_t psk_fixed[64];
    memcpy(psk_fixed, psk_RANDOM, 32);
    if (handshake("PSK", &platform, secure_psk, psk_fixed, psk_CLIENT, psk_CLIENT_COUNT, psk_SERVER,
                  psk_SERVER_COUNT, &psk_stack)) {
        return 1;
    }
#endif
#if TERN_MAX_DTLS_SESSIONS > 0 && defined(TERN_SIZE_RPK)
    static uint8_t rpk_fixed[64];
    memcpy(rpk_fixed, rpk_RANDOM, 32);
    memcpy(rpk_fixed + 32, rpk_SEED, 32);
    if (handshake("RPK", &platform, secure_rpk, rpk_fixed, rpk_CLIENT, rpk_CLIENT_COUNT, rpk_SERVER,
                  rpk_SERVER_COUNT, &rpk_stack)) {
        return 1;
    }
#endif
    printf("tern-size: storage_exact=%u storage_bound=%u stack=%u psk_handshake_stack=%u rpk_handshake_stack=%u\n",
           (unsigned)tern_client_storage_size(), (unsigned)TERN_CLIENT_STORAGE_SIZE, (unsigned)scenario_stack,
           (unsigned)psk_stack, (unsigned)rpk_stack);
    printf("PASS\n");
    return 0;
}
