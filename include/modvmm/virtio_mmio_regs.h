/*
 * modvmm SDK: the virtio-mmio register map (virtio 1.2 section 4.2.2,
 * version 2 of the transport), for code that plays the driver or the
 * transport: the plugin test harness and its users (modvmm/harness.h
 * includes this header) and the core's transport. A device plugin never
 * needs it: the core implements every register, and the plugin sees only
 * the callbacks and queue operations of modvmm/virtio.h.
 *
 * These are the spec's numbers, not part of the plugin ABI.
 */
#ifndef MODVMM_VIRTIO_MMIO_REGS_H
#define MODVMM_VIRTIO_MMIO_REGS_H

/* Register offsets in the device's MMIO window. */
#define MVM_VIRTIO_MMIO_MAGIC 0x000
#define MVM_VIRTIO_MMIO_VERSION 0x004
#define MVM_VIRTIO_MMIO_DEVICE_ID 0x008
#define MVM_VIRTIO_MMIO_VENDOR_ID 0x00c
#define MVM_VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define MVM_VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define MVM_VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define MVM_VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define MVM_VIRTIO_MMIO_QUEUE_SEL 0x030
#define MVM_VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define MVM_VIRTIO_MMIO_QUEUE_NUM 0x038
#define MVM_VIRTIO_MMIO_QUEUE_READY 0x044
#define MVM_VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define MVM_VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define MVM_VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define MVM_VIRTIO_MMIO_STATUS 0x070
#define MVM_VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define MVM_VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define MVM_VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define MVM_VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define MVM_VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define MVM_VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define MVM_VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define MVM_VIRTIO_MMIO_CONFIG 0x100
#define MVM_VIRTIO_MMIO_MAGIC_VALUE 0x74726976u /* "virt" */
/* The window each device takes: registers, then config space. */
#define MVM_VIRTIO_MMIO_WINDOW 0x1000

/* InterruptStatus and InterruptACK bits (4.2.2). */
#define MVM_VIRTIO_INT_USED 1   /* InterruptStatus: used buffer */
#define MVM_VIRTIO_INT_CONFIG 2 /* InterruptStatus: config change */

#endif /* MODVMM_VIRTIO_MMIO_REGS_H */
