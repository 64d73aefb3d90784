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

/* An image held in memory (tests, fuzzing, the differential replayer). */
typedef struct vhdxlog_mem_file {
  uint8_t *data;
  uint64_t size;
  uint64_t capacity;
  uint64_t max_size;     /* growth beyond this fails (VHDXLOG_E_IO) */
  int64_t fail_at_write; /* -1: never; k: the k-th write/write_zeros/
                            set_size call (0-based) and all later ones fail
                            and change nothing: a crash after k writes */
  uint64_t writes;       /* successful write, write_zeros, set_size calls */
  uint64_t flushes;
  int zero_past_size; /* 1: data[size, capacity) is all zero (a caller that
                         built the file over its own buffer keeps it so):
                         growth within capacity writes no zeros */
} vhdxlog_mem_file;

/* Copy `size` bytes into a new memory file. 0 on success, -1 on ENOMEM or if
 * size > max_size. */
int vhdxlog_mem_open(vhdxlog_mem_file *f, const uint8_t *data, size_t size,
                     uint64_t max_size);
void vhdxlog_mem_close(vhdxlog_mem_file *f);
void vhdxlog_mem_io(vhdxlog_mem_file *f, vhdxlog_io *io);

/* A real file, read with pread and never loaded whole. */
typedef struct vhdxlog_posix_file {
  int fd;
  int writable;
  uint64_t writes;
  uint64_t flushes;
} vhdxlog_posix_file;

/* 0 on success, -1 with errno set. `writable` also takes an exclusive lock
 * on the whole file (errno EBUSY: another process, e.g. QEMU, has it open
 * with a lock), released by vhdxlog_posix_close(). */
int vhdxlog_posix_open(vhdxlog_posix_file *f, const char *path, int writable);
int vhdxlog_posix_close(vhdxlog_posix_file *f);
void vhdxlog_posix_io(vhdxlog_posix_file *f, vhdxlog_io *io);

/*
 * Everything needed to replay or inspect one image: the parsed image, the
 * header area, the log bytes, the log context and the plan.
 * vhdxlog_load() reads through `io` (read + get_size only), allocates the
 * buffers, parses and validates. On an image or plan error it returns that
 * error with *error filled, and what was loaded so far stays readable
 * (image always; log, when it was read). Always call vhdxlog_loaded_free().
 */
typedef struct vhdxlog_loaded {
  vhdxlog_image image;
  uint8_t *header_area; /* VHDXLOG_HEADER_AREA_SIZE bytes, or NULL */
  uint8_t *log_bytes;   /* image.log_length bytes when DIRTY, else NULL */
  vhdxlog_log log;
  int log_ready; /* log context initialised */
  vhdxlog_plan plan;
  int plan_ready; /* plan valid: replay/overlay may run */
} vhdxlog_loaded;

vhdxlog_status vhdxlog_load(const vhdxlog_io *io, vhdxlog_loaded *out,
                            vhdxlog_error *error);
void vhdxlog_loaded_free(vhdxlog_loaded *l);

#ifdef __cplusplus
}
#endif
#endif
