/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * The example client (../posix/client.c, same options as tern-client) in a FreeRTOS task,
 * on FreeRTOS's POSIX port: the kernel runs as threads of one Linux process, and the task
 * talks UDP through non-blocking BSD sockets. Time is the kernel's tick count; the task
 * sleeps with vTaskDelay until the engine's next deadline, at most WAIT_MS at a time so that
 * datagrams are picked up promptly. Everything is statically allocated.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "FreeRTOS.h"
#include "task.h"

#include "example.h"
#include "tern.h"

/* The longest sleep between two looks at the sockets. */
#define WAIT_MS 10u
/* Words of stack for the client task (on this port, the thread's own stack). */
#define CLIENT_STACK_WORDS (64u * 1024u / sizeof(StackType_t))

volatile sig_atomic_t example_stop_requested;

struct client_args {
	int argc;
	char **argv;
	int status;
};

static void on_signal(int sig)
{
	(void)sig;
	example_stop_requested = 1;
}

void vAssertCalled(const char *file, unsigned long line)
{
	fprintf(stderr, "FreeRTOS assertion failed at %s:%lu\n", file, line);
	abort();
}

uint64_t example_now_ms(void)
{
	/* Called by the client task only: widens the tick count past its wrap. */
	static uint64_t wraps;
	static TickType_t last;
	TickType_t now = xTaskGetTickCount();

	if (now < last) {
		wraps += (uint64_t)portMAX_DELAY + 1u;
	}
	last = now;
	return (wraps + now) * portTICK_PERIOD_MS;
}

void example_wait_until(uint64_t deadline_ms)
{
	uint64_t now = example_now_ms();
	uint64_t wait = deadline_ms > now ? deadline_ms - now : 0;

	if (wait > WAIT_MS) {
		wait = WAIT_MS;
	}
	if (wait == 0) {
		taskYIELD();
	} else {
		vTaskDelay(pdMS_TO_TICKS(wait));
	}
}

/*
 * tern's critical section: the kernel's. On this port tasks are the only callers of
 * tern_resource_changed; on a Cortex-M port that also calls it from interrupts, use
 * taskENTER_CRITICAL_FROM_ISR / taskEXIT_CRITICAL_FROM_ISR, which nest and return the mask.
 */
static uint32_t critical_enter(void *user)
{
	(void)user;
	taskENTER_CRITICAL();
	return 0;
}

static void critical_exit(void *user, uint32_t state)
{
	(void)user;
	(void)state;
	taskEXIT_CRITICAL();
}

/*
 * The process ends with the client: on this port the scheduler's own ending
 * (vTaskEndScheduler) races with the port's threads and has been seen to abort after
 * the client was done, so the task ends the process itself.
 */
static void client_task(void *param)
{
	struct client_args *args = param;

	args->status = example_run(args->argc, args->argv);
	fflush(stdout);
	fflush(stderr);
	_Exit(args->status);
}

int main(int argc, char **argv)
{
	static StackType_t stack[CLIENT_STACK_WORDS];
	static StaticTask_t task;
	static struct client_args args;

	args.argc = argc;
	args.argv = argv;
	args.status = 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (tern_set_critical_section(critical_enter, critical_exit, NULL) != TERN_STATUS_OK) {
		fprintf(stderr, "tern_set_critical_section failed\n");
		return 1;
	}
	xTaskCreateStatic(client_task, "tern", CLIENT_STACK_WORDS, &args, tskIDLE_PRIORITY + 1, stack, &task);
	vTaskStartScheduler();
	return args.status;
}
