/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * TEST ONLY: NOT ZEPHYR. Stand-in declarations of the few Zephyr APIs the glue
 * (zephyr/src/tern_zephyr.c) and the sample use, so that zephyr/check.sh can compile them
 * with -Wall -Werror where no Zephyr tree is at hand (CI). The signatures follow Zephyr's
 * headers (3.4 to 4.x); the bodies do not exist: nothing is linked or run. Only a build
 * against a real Zephyr tree proves that the glue matches Zephyr (see zephyr/README.md).
 * tern's own header, include/tern.h, is the real one: it is never stood in for.
 */
#ifndef TERN_ZEPHYR_STANDIN_H
#define TERN_ZEPHYR_STANDIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- kernel ---- */
typedef struct {
	int64_t ticks;
} k_timeout_t;
#define K_NO_WAIT ((k_timeout_t){0})
#define K_FOREVER ((k_timeout_t){-1})
#define K_MSEC(ms) ((k_timeout_t){(int64_t)(ms)})
#define K_SECONDS(s) K_MSEC((s) * 1000)

struct k_mutex {
	int opaque;
};
struct k_sem {
	int opaque;
};
struct k_thread {
	int opaque;
};
struct k_work {
	int opaque;
};
struct k_work_delayable {
	struct k_work work;
};
struct k_work_sync {
	int opaque;
};
struct k_work_q {
	struct k_thread thread;
};
struct k_work_queue_config {
	const char *name;
	bool no_yield;
};
typedef void (*k_work_handler_t)(struct k_work *work);
typedef void (*k_thread_entry_t)(void *p1, void *p2, void *p3);
typedef struct {
	char opaque;
} k_thread_stack_t;
typedef struct k_thread *k_tid_t;

#define K_MUTEX_DEFINE(name) struct k_mutex name
#define K_SEM_DEFINE(name, initial, limit) struct k_sem name
#define K_THREAD_STACK_DEFINE(sym, size) k_thread_stack_t sym[size]
#define K_THREAD_STACK_SIZEOF(sym) sizeof(sym)

int64_t k_uptime_get(void);
int32_t k_sleep(k_timeout_t timeout);
int k_mutex_lock(struct k_mutex *mutex, k_timeout_t timeout);
int k_mutex_unlock(struct k_mutex *mutex);
void k_sem_give(struct k_sem *sem);
int k_sem_take(struct k_sem *sem, k_timeout_t timeout);
void k_sem_reset(struct k_sem *sem);
void k_work_init_delayable(struct k_work_delayable *dwork, k_work_handler_t handler);
int k_work_reschedule_for_queue(struct k_work_q *queue, struct k_work_delayable *dwork, k_timeout_t delay);
bool k_work_cancel_delayable_sync(struct k_work_delayable *dwork, struct k_work_sync *sync);
void k_work_queue_start(struct k_work_q *queue, k_thread_stack_t *stack, size_t stack_size, int prio,
			const struct k_work_queue_config *cfg);
k_tid_t k_thread_create(struct k_thread *new_thread, k_thread_stack_t *stack, size_t stack_size,
			k_thread_entry_t entry, void *p1, void *p2, void *p3, int prio, uint32_t options,
			k_timeout_t delay);
int k_thread_name_set(k_tid_t thread, const char *str);
unsigned int irq_lock(void);
void irq_unlock(unsigned int key);

/* ---- logging: the format strings are checked like printf's ---- */
void tern_standin_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define LOG_MODULE_REGISTER(name, ...) extern int tern_standin_log_module_##name
#define LOG_ERR(...) tern_standin_log(__VA_ARGS__)
#define LOG_WRN(...) tern_standin_log(__VA_ARGS__)
#define LOG_INF(...) tern_standin_log(__VA_ARGS__)
#define LOG_DBG(...) tern_standin_log(__VA_ARGS__)
#define LOG_LEVEL_INF 3

/* ---- sockets ---- */
typedef unsigned short sa_family_t;
typedef size_t socklen_t;
struct in_addr {
	uint8_t s4_addr[4];
};
struct in6_addr {
	uint8_t s6_addr[16];
};
struct sockaddr {
	sa_family_t sa_family;
	char data[24];
};
struct sockaddr_in {
	sa_family_t sin_family;
	uint16_t sin_port;
	struct in_addr sin_addr;
};
struct sockaddr_in6 {
	sa_family_t sin6_family;
	uint16_t sin6_port;
	struct in6_addr sin6_addr;
	uint8_t sin6_scope_id;
};
struct zsock_pollfd {
	int fd;
	short events;
	short revents;
};
struct zsock_addrinfo {
	struct zsock_addrinfo *ai_next;
	int ai_flags;
	int ai_family;
	int ai_socktype;
	int ai_protocol;
	socklen_t ai_addrlen;
	struct sockaddr *ai_addr;
	char *ai_canonname;
};
typedef int sec_tag_t;
enum tls_credential_type {
	TLS_CREDENTIAL_NONE,
	TLS_CREDENTIAL_CA_CERTIFICATE,
	TLS_CREDENTIAL_SERVER_CERTIFICATE,
	TLS_CREDENTIAL_PRIVATE_KEY,
	TLS_CREDENTIAL_PSK,
	TLS_CREDENTIAL_PSK_ID,
};
int tls_credential_add(sec_tag_t tag, enum tls_credential_type type, const void *cred, size_t credlen);
int tls_credential_delete(sec_tag_t tag, enum tls_credential_type type);

#define AF_INET 1
#define AF_INET6 2
#define AF_UNIX 6
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define IPPROTO_UDP 17
#define IPPROTO_DTLS_1_2 273
#define SOL_TLS 282
#define TLS_SEC_TAG_LIST 1
#define TLS_HOSTNAME 2
#define TLS_DTLS_HANDSHAKE_TIMEOUT_MAX 9
#define ZSOCK_MSG_TRUNC 0x20
#define ZSOCK_MSG_DONTWAIT 0x40
#define ZSOCK_POLLIN 1
#define ZSOCK_POLLERR 8
#define ZSOCK_POLLHUP 0x10
#define ZSOCK_POLLNVAL 0x20

uint16_t htons(uint16_t value);
int zsock_socket(int family, int type, int proto);
int zsock_socketpair(int family, int type, int proto, int *sv);
int zsock_close(int sock);
int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen);
ssize_t zsock_send(int sock, const void *buf, size_t len, int flags);
ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags);
int zsock_poll(struct zsock_pollfd *fds, int nfds, int poll_timeout);
int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen);
int zsock_inet_pton(sa_family_t family, const char *src, void *dst);
int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
		      struct zsock_addrinfo **res);
void zsock_freeaddrinfo(struct zsock_addrinfo *ai);

/* ---- sys/util.h ---- */
size_t hex2bin(const char *hex, size_t hexlen, uint8_t *buf, size_t buflen);

/* ---- random ---- */
int sys_csrand_get(void *dst, size_t len);
void sys_rand_get(void *dst, size_t len);

/* ---- settings ---- */
typedef ssize_t (*settings_read_cb)(void *cb_arg, void *data, size_t len);
struct settings_handler_static {
	const char *name;
	int (*h_get)(const char *key, char *val, int val_len_max);
	int (*h_set)(const char *key, size_t len, settings_read_cb read_cb, void *cb_arg);
	int (*h_commit)(void);
	int (*h_export)(int (*export_func)(const char *name, const void *val, size_t val_len));
};
#define SETTINGS_STATIC_HANDLER_DEFINE(_hname, _tree, _get, _set, _commit, _export)                           \
	const struct settings_handler_static settings_handler_##_hname = {                                      \
		.name = _tree, .h_get = _get, .h_set = _set, .h_commit = _commit, .h_export = _export}
int settings_subsys_init(void);
int settings_load_subtree(const char *subtree);
int settings_save_one(const char *name, const void *value, size_t val_len);
int settings_name_steq(const char *name, const char *key, const char **next);

/* ---- shell ---- */
struct shell {
	int opaque;
};
typedef int (*shell_cmd_handler)(const struct shell *sh, size_t argc, char **argv);
union shell_cmd_entry;
struct shell_static_entry {
	const char *syntax;
	const char *help;
	const union shell_cmd_entry *subcmd;
	shell_cmd_handler handler;
};
union shell_cmd_entry {
	const struct shell_static_entry *entry;
};
void shell_print_impl(const struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define shell_print(sh, ...) shell_print_impl(sh, __VA_ARGS__)
#define SHELL_CMD(syntax, subcmd, help, handler) {#syntax, help, subcmd, handler}
#define SHELL_SUBCMD_SET_END {NULL, NULL, NULL, NULL}
#define SHELL_STATIC_SUBCMD_SET_CREATE(name, ...)                                                              \
	static const struct shell_static_entry name##_entries[] = {__VA_ARGS__};                                \
	static const union shell_cmd_entry name = {.entry = name##_entries}
#define SHELL_CMD_REGISTER(syntax, subcmd, help, handler)                                                       \
	const struct shell_static_entry tern_standin_shell_##syntax = {#syntax, help, subcmd, handler}

/* ---- devicetree, interrupts, registers, net_pkt: the sample's src/stellaris_rx.c ---- */
#define AF_UNSPEC 0
#define DT_INST(inst, compat) 0
#define DT_IRQN(node) 42
#define DT_IRQ(node, cell) 0
#define DT_REG_ADDR(node) 0x40048000u
#define DEVICE_DT_GET(node) ((const struct device *)0)
#define CONFIG_GEN_IRQ_START_VECTOR 0
#define SYS_INIT(init_fn, level, prio) int (*const tern_standin_init_##init_fn)(void) = init_fn
typedef uintptr_t mm_reg_t;
struct device;
struct net_if;
struct net_pkt;
struct _isr_table_entry {
	const void *arg;
	void (*isr)(const void *);
};
extern struct _isr_table_entry _sw_isr_table[];
uint32_t sys_read32(mm_reg_t addr);
void sys_write32(uint32_t data, mm_reg_t addr);
int irq_connect_dynamic(unsigned int irq, unsigned int priority, void (*routine)(const void *parameter),
			const void *parameter, uint32_t flags);
void irq_enable(unsigned int irq);
void irq_disable(unsigned int irq);
bool device_is_ready(const struct device *dev);
struct net_if *net_if_lookup_by_dev(const struct device *dev);
struct net_pkt *net_pkt_rx_alloc_with_buffer(struct net_if *iface, size_t size, sa_family_t family, int proto,
					     k_timeout_t timeout);
int net_pkt_write(struct net_pkt *pkt, const void *data, size_t length);
void net_pkt_unref(struct net_pkt *pkt);
int net_recv_data(struct net_if *iface, struct net_pkt *pkt);

#endif /* TERN_ZEPHYR_STANDIN_H */
