/* SPDX-License-Identifier: Apache-2.0 OR MIT */
#include "slip.h"

#include "FreeRTOS.h"
#include "task.h"

/* CMSDK APB UART0. */
#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define STATE_TX_FULL 0x1u
#define STATE_RX_FULL 0x2u
#define CTRL_TX_EN 0x1u
#define CTRL_RX_EN 0x2u

/* RFC 1055. */
#define END 0xC0u
#define ESC 0xDBu
#define ESC_END 0xDCu
#define ESC_ESC 0xDDu

/* The frame being received, and whether it is waiting to be taken. */
static uint8_t frame[SLIP_MTU];
static size_t frame_len;
static bool escaped;
static bool overflow;
static bool complete;

void slip_init(void)
{
	UART_BAUDDIV = 16u;
	UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
}

static void put(uint8_t byte)
{
	while (UART_STATE & STATE_TX_FULL) {
	}
	UART_DATA = byte;
}

void slip_send(const uint8_t *data, size_t len)
{
	put(END);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == END) {
			put(ESC);
			put(ESC_END);
		} else if (data[i] == ESC) {
			put(ESC);
			put(ESC_ESC);
		} else {
			put(data[i]);
		}
	}
	put(END);
}

/* One received byte; true when it completed a frame. */
static bool received(uint8_t byte)
{
	if (byte == END) {
		bool whole = frame_len > 0 && !overflow;
		if (!whole) {
			frame_len = 0; /* empty or oversized: dropped */
		}
		overflow = false;
		escaped = false;
		return whole;
	}
	if (escaped) {
		byte = byte == ESC_END ? END : byte == ESC_ESC ? ESC : byte;
		escaped = false;
	} else if (byte == ESC) {
		escaped = true;
		return false;
	}
	if (frame_len < sizeof(frame)) {
		frame[frame_len++] = byte;
	} else {
		overflow = true;
	}
	return false;
}

bool slip_poll(uint32_t quiet_ms)
{
	TickType_t last = xTaskGetTickCount();

	/* QEMU hands the UART its next byte only once this one is read: nothing is lost while a
	 * frame waits to be taken, the host side just waits. */
	while (!complete && xTaskGetTickCount() - last <= pdMS_TO_TICKS(quiet_ms)) {
		if (UART_STATE & STATE_RX_FULL) {
			complete = received((uint8_t)UART_DATA);
			last = xTaskGetTickCount();
		}
	}
	return complete;
}

size_t slip_take(uint8_t *buffer, size_t capacity)
{
	if (!complete) {
		return 0;
	}
	size_t len = frame_len <= capacity ? frame_len : 0;
	for (size_t i = 0; i < len; i++) {
		buffer[i] = frame[i];
	}
	frame_len = 0;
	complete = false;
	return len;
}
