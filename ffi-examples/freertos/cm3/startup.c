/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* Cortex-M3 startup for QEMU mps2-an385: FreeRTOS's SVC, PendSV and SysTick handlers in
 * the vector table, the C library over semihosting. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

extern uint32_t __data_start, __data_end, __data_load;
extern uint32_t __bss_start, __bss_end;
extern uint32_t __stack_top;

extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
extern void vPortSVCHandler(void);
extern void xPortPendSVHandler(void);
extern void xPortSysTickHandler(void);

void Reset_Handler(void);
void Fault_Handler(void);

/* -nostartfiles: the C library still calls these from __libc_init_array/exit. */
void _init(void) {}
void _fini(void) {}

__attribute__((section(".vectors"), used)) static void (*const vector_table[16])(void) = {
	(void (*)(void))(&__stack_top), /* initial stack pointer (main, then interrupts) */
	Reset_Handler,
	Fault_Handler, /* NMI */
	Fault_Handler, /* HardFault */
	Fault_Handler, /* MemManage */
	Fault_Handler, /* BusFault */
	Fault_Handler, /* UsageFault */
	0,
	0,
	0,
	0,
	vPortSVCHandler,
	Fault_Handler, /* DebugMonitor */
	0,
	xPortPendSVHandler,
	xPortSysTickHandler,
};

void Reset_Handler(void)
{
	uint32_t *src = &__data_load;

	for (uint32_t *dst = &__data_start; dst < &__data_end;) {
		*dst++ = *src++;
	}
	for (uint32_t *dst = &__bss_start; dst < &__bss_end;) {
		*dst++ = 0;
	}
	initialise_monitor_handles();
	__libc_init_array();
	exit(main());
}

/* Any fault ends the run with a distinctive status. */
void Fault_Handler(void)
{
	_exit(99);
}
