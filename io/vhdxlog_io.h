/* SPDX-License-Identifier: MIT */
/*
 * I/O backends for vhdxlog_replay(), and a loader that reads an image into
 * memory the library can work on. These allocate and do I/O; the core in
 * lib/ does neither.
 */
#ifndef VHDXLOG_IO_H
#define VHDXLOG_IO_H

#include "vhdxlog.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A real file, read with pread and never loaded whole: a regular file or
 * a block device. */
typedef struct vhdxlog_posix_file {
  int fd;
  int writable;
  int is_block; /* a block device: its size is the device's, it cannot grow */
  uint64_t writes;
  uint64_t flushes;
  const char *reason; /* after a failed open: why the file was refused (a
                         static string), or NULL when errno says it all */
} vhdxlog_posix_file;

/* 0 on success, -1 with errno set. Never blocks on a FIFO. Refuses what is
 * neither a regular file nor a block device, with f->reason set and errno
 * EISDIR (a directory), ESPIPE (a FIFO or socket) or ENODEV (a character
 * device). `writable` also takes an exclusive lock on the whole file (errno
 * EBUSY: another process, e.g. QEMU, has it open with a lock), released by
 * vhdxlog_posix_close(). */
int vhdxlog_posix_open(vhdxlog_posix_file *f, const char *path, int writable);
int vhdxlog_posix_close(vhdxlog_posix_file *f);
/* A shared lock on the whole file, held until close: no writer (QEMU, a
 * replay) can take the image meanwhile. 0, or -1 with errno EBUSY when one
 * holds it; a file system without locks counts as locked. For readers that
 * copy an image and must not copy it mid-write. */
int vhdxlog_posix_lock_shared(vhdxlog_posix_file *f);
/* 1 if another open of the file holds a lock a writer would conflict with
 * (what QEMU tests before it writes): the image is in use. */
int vhdxlog_posix_in_use(const vhdxlog_posix_file *f);
/* Replay writes: zeroing never allocates space for what already reads as
 * zero (holes are skipped; data is zeroed in place, never punched), and
 * the file grows by ftruncate, sparse. */
void vhdxlog_posix_io(vhdxlog_posix_file *f, vhdxlog_io *io);

/* A read-only view of part of a POSIX file. */
typedef struct vhdxlog_posix_view {
  const uint8_t *data; /* `length` readable bytes, or NULL */
  uint64_t length;
  void *base_;  /* private: the reservation, */
  size_t size_; /* and its size */
} vhdxlog_posix_view;

/*
 * Map [offset, offset + length) of `f` read-only: the file's data ranges
 * from the file (page cache, shared with other readers), its holes as
 * anonymous zero pages, which take no memory. Memory follows what the file
 * holds, not `length`. `offset` must be a multiple of the page size and
 * the range must lie inside the file. 0 on success; -1 with errno:
 * ENOMEM when the range does not fit this process's address space (a
 * 32-bit host, ulimit -v), EINVAL (unaligned, outside the file), ENODEV or
 * EACCES (the file cannot be mapped: read it instead).
 * Hazard: while mapped, a file shrunk by another process kills this one
 * with SIGBUS on the next access past its new end (as with any mapping).
 */
int vhdxlog_posix_map(vhdxlog_posix_file *f, uint64_t offset, uint64_t length,
                      vhdxlog_posix_view *v);
void vhdxlog_posix_unmap(vhdxlog_posix_view *v);

/*
 * Everything needed to replay or inspect one image: the parsed image, the
 * header area (which the plan reads: image.header_area points into it),
 * the log bytes, the log context and the plan.
 * vhdxlog_load() reads through `io` (read + get_size only), parses and
 * validates. The header area is read into 1 MiB of memory. A dirty log is
 * mapped when `io` is a POSIX file (vhdxlog_posix_io: vhdxlog_posix_map),
 * so memory follows what the file holds, not LogLength; through any other
 * io it is read into a buffer of LogLength bytes. When memory or address
 * space runs out the status is VHDXLOG_E_RESOURCE, errno is kept and
 * `detail` says what did not fit. On an image or plan error it returns that
 * error with *error filled, and what was loaded so far stays readable
 * (image always; log, when it was read). Always call vhdxlog_loaded_free().
 */
typedef struct vhdxlog_loaded {
  vhdxlog_image image;
  uint8_t *header_area;     /* VHDXLOG_HEADER_AREA_SIZE bytes, or NULL */
  const uint8_t *log_bytes; /* image.log_length bytes when DIRTY, else NULL */
  vhdxlog_log log;
  int log_ready; /* log context initialised */
  vhdxlog_plan plan;
  int plan_ready;     /* plan valid: replay/overlay may run */
  const char *detail; /* with VHDXLOG_E_RESOURCE: what could not be had (a
                         static string), else NULL */
  /* Private: how header_area and log_bytes are held. */
  int header_area_owned_;
  uint8_t *log_buffer_;
  vhdxlog_posix_view log_view_;
} vhdxlog_loaded;

vhdxlog_status vhdxlog_load(const vhdxlog_io *io, vhdxlog_loaded *out,
                            vhdxlog_error *error);
/* The same, the plan built under `policy` (vhdxlog_plan_init_policy);
 * vhdxlog_load() uses VHDXLOG_POLICY_DEFAULT. */
vhdxlog_status vhdxlog_load_policy(const vhdxlog_io *io, vhdxlog_policy policy,
                                   vhdxlog_loaded *out, vhdxlog_error *error);
void vhdxlog_loaded_free(vhdxlog_loaded *l);

/*
 * The same into the caller's memory, allocating and mapping nothing: for a
 * caller that loads many images (a fuzzer, a differential test) or that has
 * no heap to spare. The header area is read into `header_area`
 * (VHDXLOG_HEADER_AREA_SIZE bytes) and a dirty log into `log`; a log longer
 * than `log_capacity` is VHDXLOG_E_RESOURCE (detail says so) before any of
 * it is read. The buffers must outlive *out; vhdxlog_loaded_free() leaves
 * them alone.
 */
typedef struct vhdxlog_load_buffers {
  uint8_t *header_area;
  uint8_t *log;
  size_t log_capacity;
} vhdxlog_load_buffers;

vhdxlog_status vhdxlog_load_into(const vhdxlog_io *io, vhdxlog_policy policy,
                                 const vhdxlog_load_buffers *buffers,
                                 vhdxlog_loaded *out, vhdxlog_error *error);

#ifdef __cplusplus
}
#endif
#endif
