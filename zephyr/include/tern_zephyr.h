/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * tern on Zephyr (CONFIG_TERN_ZEPHYR): one client in static storage, run by a delayable
 * work item on a work queue of its own.
 *
 * - The platform is the glue's: UDP sockets (zsock_*, connected, read without blocking;
 *   Zephyr DTLS sockets for coaps:// with CONFIG_TERN_ZEPHYR_TLS), k_uptime_get() as the
 *   clock, sys_csrand_get() for random bytes, the settings subsystem for the saved state
 *   (CONFIG_TERN_ZEPHYR_SETTINGS), Zephyr logging (module "tern").
 * - The work item calls tern_client_step() and reschedules itself, with
 *   k_work_reschedule_for_queue(), at the deadline the engine returns. A thread blocks in
 *   zsock_poll() on the open sockets and kicks the work item when one is readable (a
 *   socketpair wakes it when the set of sockets changes).
 * - Every call into the engine (tern_client_*, tern_send, ...) other than
 *   tern_resource_changed() must come from the work queue or hold tern_zephyr_lock();
 *   tern_resource_changed() may be called from any thread or interrupt. Call
 *   tern_zephyr_kick() afterwards so that the engine acts at once.
 * - Object handlers, the firmware sink and the event callback run on the work queue with
 *   that lock held (a k_mutex: they may call tern_zephyr_lock() again).
 */
#ifndef TERN_ZEPHYR_H
#define TERN_ZEPHYR_H

#include <stdbool.h>
#include <stdint.h>

#include "tern.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Initialises the client with `config` (copied as tern_client_init() copies it: the
 * Device strings are borrowed and must outlive the client), installs irq_lock() as the
 * engine's critical section and loads the saved state records. `on_event` (optional) sees
 * every engine event, on the work queue, after the glue has noted it. On success `*client`
 * is the client, for tern_client_add_object() and the like before tern_zephyr_start().
 * Returns 0, -EALREADY when already initialised, -ENOMEM when the storage is too small,
 * -EINVAL for a configuration the engine refuses (logged with its status), -EIO when
 * the wake-up socketpair cannot be created.
 */
int tern_zephyr_init(const tern_config_t *config, tern_event_fn on_event, void *user, tern_client_t **client);

/** Starts the work queue and the poll thread: the first step runs at once. 0 or -EINVAL
 * before tern_zephyr_init(), -EALREADY when running. */
int tern_zephyr_start(void);

/** Runs a step as soon as possible (after tern_resource_changed(), tern_send(), ...). */
void tern_zephyr_kick(void);

/** Holds the engine against the work queue, for calls from other threads. Not from an
 * interrupt. */
void tern_zephyr_lock(void);

/** Releases what tern_zephyr_lock() took. */
void tern_zephyr_unlock(void);

/**
 * De-registers from every server, waits until the engine is idle or `timeout_ms` passed,
 * then closes the client and its sockets. 0 when the de-registration finished in time,
 * -ETIMEDOUT when the client was closed without it, -EINVAL when not running, -EBUSY when
 * a step of the engine held it past the timeout (and one more second at the close: a
 * platform callback that never returns, such as a send stuck in a network driver); the
 * client then stays open and running, and the call may be made again. It sleeps: call it
 * from a thread, never from the work queue (a handler or the event callback).
 * tern_zephyr_init() may then set up a new client.
 */
int tern_zephyr_stop(uint32_t timeout_ms);

/** Registration state of server slot `server` as the glue follows it from the engine's
 * events: "stopped", "starting", "registered", "sleeping" (queue mode), "retrying",
 * "rejected", "failed", "deregistered" or "bootstrapped"; NULL for a slot beyond
 * TERN_MAX_SERVERS. */
const char *tern_zephyr_state(uint8_t server);

#ifdef __cplusplus
}
#endif

#endif /* TERN_ZEPHYR_H */
