/* The input queue between the proxy and the DMT runtime (joint mode).
 *
 * In joint mode the proxy applies committed log events to the local server and tells the
 * server's scheduler, through this queue in shared memory, at which logical time each input
 * becomes visible: "connection C's socket receives N bytes at logical time T". The runtime then
 * lets a thread blocked in accept/recv/read/poll on that socket re-enter the run queue at turn T
 * (instead of "when the kernel call returns", the dmt_only behaviour), so every replica's
 * threads see each input at the same point of their schedule. Time bubbles let logical time
 * advance while no input arrives.
 *
 * One producer (the proxy), one consumer (the runtime in the server process). The region is
 * created by the proxy (shm_open + ftruncate + mmap) under the name passed to the server as
 * LOCKSTEP_DMT_INPUT_QUEUE; its size is sizeof(lockstep_dmt_queue_header) + capacity *
 * sizeof(lockstep_dmt_queue_event). Plain C, fixed-width little-endian fields, no pointers.
 *
 * Status: format only. The dmt_only runtime does not read the queue yet (joint mode is a later
 * issue); the re-entry point in dmt/src/sched.cpp (ext_end) is where it will plug in.
 */
#ifndef LOCKSTEP_DMT_INPUT_QUEUE_H
#define LOCKSTEP_DMT_INPUT_QUEUE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOCKSTEP_DMT_QUEUE_MAGIC 0x4c534451u /* "LSDQ" */
#define LOCKSTEP_DMT_QUEUE_VERSION 1u

enum lockstep_dmt_event_kind {
  LOCKSTEP_DMT_EV_CONNECT = 1,  /* a connection is accepted on listening port `port` */
  LOCKSTEP_DMT_EV_DATA = 2,     /* connection `conn` receives `bytes` bytes */
  LOCKSTEP_DMT_EV_SHUTDOWN = 3, /* the peer shut down its sending side (recv returns 0) */
  LOCKSTEP_DMT_EV_CLOSE = 4,    /* the connection is gone (recv fails) */
  LOCKSTEP_DMT_EV_BUBBLE = 5    /* no input: logical time may advance to `logical_time` */
};

/* One input event. The proxy assigns `logical_time` deterministically (from the log index), so
 * all replicas agree on it; events are in non-decreasing logical_time order. */
typedef struct lockstep_dmt_queue_event {
  uint64_t logical_time; /* turn at which the input becomes visible */
  uint64_t conn;         /* cluster-unique connection id (origin node << 48 | counter) */
  uint64_t bytes;        /* DATA: byte count now readable */
  uint32_t kind;         /* enum lockstep_dmt_event_kind */
  uint16_t port;         /* CONNECT: the server's listening port */
  uint16_t reserved;
} lockstep_dmt_queue_event;

/* Ring header. head is written by the consumer only, tail by the producer only; both count
 * events since creation (index = counter % capacity). Each is on its own cache line. */
typedef struct lockstep_dmt_queue_header {
  uint32_t magic;
  uint32_t version;
  uint32_t capacity; /* events; a power of two */
  uint32_t event_size; /* sizeof(lockstep_dmt_queue_event), checked by the consumer */
  uint8_t pad0[48];
  uint64_t tail; /* producer: next slot to fill (store-release after writing the event) */
  uint32_t tail_futex; /* bumped by the producer after publishing; the idle consumer waits on it */
  uint8_t pad1[52];
  uint64_t head; /* consumer: next slot to read (store-release after consuming) */
  uint8_t pad2[56];
  /* lockstep_dmt_queue_event events[capacity] follows */
} lockstep_dmt_queue_header;

#ifdef __cplusplus
}
#endif

#endif /* LOCKSTEP_DMT_INPUT_QUEUE_H */
