/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/*
 * qemu_cortex_m3 (CONFIG_TERN_SAMPLE_STELLARIS_RX): up to Zephyr 3.6 the Stellaris Ethernet
 * driver reads one frame per RX interrupt, and the controller (QEMU's as the datasheet's)
 * raises that interrupt when a frame arrives, not while frames wait: when two frames
 * arrive before the interrupt is taken (a CoAP ACK and the server's next request, sent
 * back to back), the second stays in the controller until another frame arrives, and the
 * backlog never shrinks. This wraps the driver's interrupt handler and reads, after it,
 * every frame still waiting (MACNP), as the driver itself does from Zephyr 3.7 on (where
 * this is harmless: nothing is left waiting).
 */
#include <errno.h>

#include <zephyr/device.h>
#include <zephyr/init.h>
#include <zephyr/irq.h>
#include <zephyr/kernel.h>
#include <zephyr/net/net_core.h>
#include <zephyr/net/net_if.h>
#include <zephyr/net/net_pkt.h>
#include <zephyr/sw_isr_table.h>
#include <zephyr/sys/sys_io.h>

#define ETH_NODE DT_INST(0, ti_stellaris_ethernet)
#define ETH_IRQ DT_IRQN(ETH_NODE)
#define REG_MACRIS (DT_REG_ADDR(ETH_NODE) + 0x00)
#define REG_MACDATA (DT_REG_ADDR(ETH_NODE) + 0x10)
#define REG_MACNP (DT_REG_ADDR(ETH_NODE) + 0x34)
#define MACRIS_RXINT 0x1

static struct _isr_table_entry driver_isr;
static struct net_if *iface;

/* One frame out of the RX FIFO: a 16-bit length (counting itself, the frame and the 4-byte
 * FCS), the frame, the FCS, in 32-bit words. A frame without a buffer is read and dropped. */
static void read_frame(void)
{
	uint32_t word = sys_read32(REG_MACDATA);
	uint32_t len = word & 0xffff;
	struct net_pkt *pkt = NULL;

	if (len > 6) {
		pkt = net_pkt_rx_alloc_with_buffer(iface, len - 6, AF_UNSPEC, 0, K_NO_WAIT);
	}
	for (uint32_t at = 0; at < len; at += 4) {
		uint8_t bytes[4];
		size_t n = 0;

		if (at > 0) {
			word = sys_read32(REG_MACDATA);
		}
		for (uint32_t k = 0; k < 4; k++) {
			if (at + k >= 2 && at + k + 4 < len) {
				bytes[n++] = (uint8_t)(word >> (8 * k));
			}
		}
		if (pkt != NULL && n > 0 && net_pkt_write(pkt, bytes, n) != 0) {
			net_pkt_unref(pkt);
			pkt = NULL;
		}
	}
	if (pkt != NULL && net_recv_data(iface, pkt) < 0) {
		net_pkt_unref(pkt);
	}
}

static void eth_isr(const void *arg)
{
	unsigned int key = irq_lock();

	(void)arg;
	/* A frame read below by an earlier run leaves its RX flag set: the driver would read
	 * an empty FIFO for it. */
	if ((sys_read32(REG_MACRIS) & MACRIS_RXINT) != 0 && sys_read32(REG_MACNP) == 0) {
		sys_write32(MACRIS_RXINT, REG_MACRIS);
	}
	driver_isr.isr(driver_isr.arg);
	while (sys_read32(REG_MACNP) > 0) {
		read_frame();
	}
	irq_unlock(key);
}

static int stellaris_rx_init(void)
{
	const struct device *dev = DEVICE_DT_GET(ETH_NODE);

	iface = net_if_lookup_by_dev(dev);
	if (iface == NULL || !device_is_ready(dev)) {
		return -ENODEV;
	}
	irq_disable(ETH_IRQ);
	driver_isr = _sw_isr_table[ETH_IRQ - CONFIG_GEN_IRQ_START_VECTOR];
	(void)irq_connect_dynamic(ETH_IRQ, DT_IRQ(ETH_NODE, priority), eth_isr, NULL, 0);
	irq_enable(ETH_IRQ);
	return 0;
}

SYS_INIT(stellaris_rx_init, APPLICATION, 0);
