/*
 * virtio-blk plugin: the state shared by its files. blk.c is the plugin
 * (options, config space, queues, completions), blk_req.c turns a popped
 * chain into a checked request, blk_io.c hands requests to an engine
 * (blk_uring.c, or its own worker threads); the rate limits are the SDK's
 * token bucket (modvmm/token_bucket.h).
 *
 * A request's life: the event-loop thread pops a chain (queue_notify),
 * blk_req_prepare checks it against the disk and translates its data
 * segments to host iovecs; blk_io_submit hands it to the engine (an SQE
 * of the disk's io_uring, or a worker thread) which does the file I/O;
 * the engine's eventfd wakes the event loop, which writes the status byte,
 * pushes the chain and interrupts the driver. Nothing of this runs on a vCPU
 * thread.
 */
#ifndef MODVMM_BLK_H
#define MODVMM_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <modvmm/plugin.h>
#include <modvmm/token_bucket.h>
#include <modvmm/virtio.h>

#define BLK_DEVICE_ID 2
#define BLK_SECTOR 512ULL

/* Feature bits (virtio spec 5.2.3). */
#define BLK_F_SIZE_MAX 1
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_FLUSH 9
#define BLK_F_MQ 12
#define BLK_F_DISCARD 13
#define BLK_F_WRITE_ZEROES 14

/* Request types and status values (virtio spec 5.2.6). */
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_T_DISCARD 11
#define BLK_T_WRITE_ZEROES 13
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2

/* The GET_ID string is at most 20 bytes (virtio spec 5.2.6). */
#define BLK_ID_BYTES 20
/* The request header: le32 type, le32 reserved, le64 sector. */
#define BLK_HDR_BYTES 16
/* One discard / write-zeroes segment: le64 sector, le32 num_sectors,
 * le32 flags (virtio spec 5.2.6). */
#define BLK_DWZ_BYTES 16
#define BLK_DWZ_F_UNMAP 1u

/* What we tell the driver in config space. */
#define BLK_SIZE_MAX (1u << 20)        /* bytes in one data segment */
#define BLK_MAX_DWZ_SEG 32             /* segments in one discard / zeroes */
#define BLK_MAX_DWZ_SECTORS (1u << 22) /* 2 GiB in one segment */

struct blk_opts {
	const char *path;
	bool readonly;
	bool direct;
	bool discard;
	const char *serial;
	const char *aio;
	uint64_t num_queues;
	uint64_t queue_size;
	uint64_t bw_size, bw_refill_time;
	uint64_t ops_size, ops_refill_time;
};

/* A byte range of the image for DISCARD / WRITE_ZEROES. */
struct blk_range {
	uint64_t off, len;
	bool unmap;
};

/* One request, from pop to push. Owned by the event loop except between
 * blk_io_submit and its appearance on the done list, when one worker owns
 * it. */
struct blk_req {
	struct blk_req *next;
	unsigned qi;                  /* queue index */
	struct mvm_virtq_chain chain; /* head and epoch; seg not kept */
	uint32_t type;
	uint64_t off;        /* image byte offset (IN, OUT) */
	uint64_t len;        /* data bytes (IN, OUT) */
	uint64_t status_gpa; /* the chain's last writable byte */
	uint8_t status;      /* set by the worker */
	unsigned niov;
	struct iovec *iov; /* IN, OUT: guest buffers (host pointers) */
	unsigned nrange;
	struct blk_range range[BLK_MAX_DWZ_SEG];
	/* io_uring engine progress (blk_uring.c). */
	struct iovec *iov_orig; /* direct=on: iov as prepared, for a retry */
	unsigned iov_cur;       /* first iovec not yet fully moved */
	uint64_t done;          /* bytes moved (IN, OUT, zero writes) */
	unsigned stage;         /* DISCARD / WRITE_ZEROES: current range */
	int zmode;              /* 0 punch, 1 zero range, 2 write zeros */
	bool buffered;          /* retried through fd_buffered */
};

struct blk_queue {
	struct mvm_virtq *q;
	unsigned inflight; /* submitted, not yet pushed */
};

struct blk_io;

struct blk {
	mvm_dev *dev;
	const struct mvm_host *host;
	const struct mvm_virtio_host *vh;
	struct mvm_virtio *vdev;
	struct blk_opts opts;
	int fd;            /* the image */
	int fd_buffered;   /* direct=on: the image without O_DIRECT, for
			      requests whose buffers O_DIRECT refuses */
	uint64_t capacity; /* in 512-byte sectors */
	uint64_t features; /* offered */
	uint8_t config[60];
	struct blk_io *io;
	bool uring; /* the engine in use: io_uring, else worker threads */
	struct mvm_bucket bw, ops;
	int timer; /* rate-limit refill, -1 when not armed */
	struct blk_queue *queues;
	/* Counters, for tests and logs. */
	uint64_t n_ioerr, n_unsupp;
};

#endif /* MODVMM_BLK_H */
