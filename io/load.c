/* SPDX-License-Identifier: MIT */
/*
 * Load an image for the library: the 1 MiB header area, the log when it is
 * dirty, the log context and the plan. Reads go through the caller's
 * vhdxlog_io (read + get_size only); nothing is written.
 */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE), posix_memalign */
#endif
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "io_internal.h"
#include "vhdxlog_io.h"

static vhdxlog_status fail(vhdxlog_error *error, vhdxlog_status status,
                           uint64_t offset) {
  if (error != NULL) {
    error->status = status;
    error->cause = status;
    error->offset = offset;
    error->index = VHDXLOG_NO_INDEX;
  }
  return status;
}

/*
 * The log buffer is filled once and read once: on a VM, first-touch page
 * faults of a 256 MiB buffer cost more than the reads themselves. Huge
 * pages (where the kernel offers them on request) cut the faults 512-fold.
 */
static uint8_t *alloc_log(uint32_t length) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const size_t huge = (size_t)2 << 20;
  if (length >= huge) {
    void *p = NULL;
    if (posix_memalign(&p, huge, length) != 0)
      return NULL;
    (void)madvise(p, length, MADV_HUGEPAGE); /* a hint: failure is fine */
    return (uint8_t *)p;
  }
#endif
  return (uint8_t *)malloc(length);
}

/* E_RESOURCE: errno (ENOMEM) is the caller's to print, with `detail`. */
static vhdxlog_status no_resource(vhdxlog_loaded *out, vhdxlog_error *error,
                                  const char *detail, uint64_t offset) {
  int saved = errno;
  out->detail = detail;
  (void)fail(error, VHDXLOG_E_RESOURCE, offset);
  errno = saved;
  return VHDXLOG_E_RESOURCE;
}

/*
 * The dirty log's bytes into out->log_bytes: mapped when `io` is a POSIX
 * file, else read into a buffer. The parser checked LogLength > 0 and
 * LogOffset + LogLength <= file size for a dirty log, so both stay inside
 * the file.
 */
static vhdxlog_status get_log(const vhdxlog_io *io,
                              const vhdxlog_load_buffers *caller,
                              vhdxlog_loaded *out, vhdxlog_error *error) {
  const vhdxlog_image *image = &out->image;
  vhdxlog_posix_file *pf = vhdxlog_io_posix_file(io);
  uint8_t *into = NULL;

  if (caller != NULL) {
    if (caller->log == NULL || caller->log_capacity < image->log_length)
      return no_resource(out, error, "the log is longer than the buffer given",
                         image->log_offset);
    into = caller->log;
  } else if (pf != NULL) {
    if (vhdxlog_posix_map(pf, image->log_offset, image->log_length,
                          &out->log_view_) == 0) {
      out->log_bytes = out->log_view_.data;
      return VHDXLOG_OK;
    }
    if (errno == ENOMEM)
      return no_resource(out, error,
                         "the log does not fit in this process's address "
                         "space (a 32-bit host, or ulimit -v)",
                         image->log_offset);
    /* The file cannot be mapped (ENODEV...): read it. */
  }
  if (caller == NULL) {
    into = out->log_buffer_ = alloc_log(image->log_length);
    if (into == NULL)
      return no_resource(out, error, "cannot allocate memory for the log",
                         image->log_offset);
  }
  if (io->read(io->ctx, image->log_offset, into, (size_t)image->log_length) !=
      0)
    return fail(error, VHDXLOG_E_IO, image->log_offset);
  out->log_bytes = into;
  return VHDXLOG_OK;
}

/* vhdxlog_load_policy() when `caller` is NULL, else vhdxlog_load_into(). */
static vhdxlog_status load(const vhdxlog_io *io, vhdxlog_policy policy,
                           const vhdxlog_load_buffers *caller,
                           vhdxlog_loaded *out, vhdxlog_error *error) {
  vhdxlog_image *image;
  vhdxlog_status st;
  uint64_t file_size = 0;
  size_t head_bytes;

  if (out != NULL)
    memset(out, 0, sizeof *out);
  if (io == NULL || out == NULL || io->read == NULL || io->get_size == NULL)
    return fail(error, VHDXLOG_E_ARGUMENT, 0);
  image = &out->image;

  if (io->get_size(io->ctx, &file_size) != 0)
    return fail(error, VHDXLOG_E_IO, 0);

  /* The header area, zero-filled past the end of a short file so that the
   * parser sees defined bytes (it reports E_FILE_TOO_SMALL from file_size
   * before looking at them). */
  if (caller != NULL) {
    if (caller->header_area == NULL)
      return fail(error, VHDXLOG_E_ARGUMENT, 0);
    out->header_area = caller->header_area;
  } else {
    out->header_area = calloc(1, VHDXLOG_HEADER_AREA_SIZE);
    if (out->header_area == NULL)
      return no_resource(out, error, "cannot allocate memory for the headers",
                         0);
    out->header_area_owned_ = 1;
  }
  head_bytes = file_size < VHDXLOG_HEADER_AREA_SIZE ? (size_t)file_size
                                                    : VHDXLOG_HEADER_AREA_SIZE;
  if (head_bytes > 0 && io->read(io->ctx, 0, out->header_area, head_bytes) != 0)
    return fail(error, VHDXLOG_E_IO, 0);
  if (caller != NULL) /* calloc's block is zero already */
    memset(out->header_area + head_bytes, 0,
           VHDXLOG_HEADER_AREA_SIZE - head_bytes);

  st = vhdxlog_image_parse(out->header_area, VHDXLOG_HEADER_AREA_SIZE,
                           file_size, image, error);
  if (st != VHDXLOG_OK)
    return st;

  if (image->log_state == VHDXLOG_LOG_DIRTY) {
    st = get_log(io, caller, out, error);
    if (st != VHDXLOG_OK)
      return st;
    st = vhdxlog_log_init(&out->log, out->log_bytes, image->log_length,
                          image->log_guid);
    if (st != VHDXLOG_OK)
      return fail(error, st, image->log_offset);
    out->log_ready = 1;
  }

  /* The plan keeps pointers to out->image and out->log: *out must not move
   * while the plan is in use. */
  st = vhdxlog_plan_init_policy(
      &out->plan, image, out->log_ready ? &out->log : NULL, policy, error);
  if (st != VHDXLOG_OK)
    return st;
  out->plan_ready = 1;
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_load_policy(const vhdxlog_io *io, vhdxlog_policy policy,
                                   vhdxlog_loaded *out, vhdxlog_error *error) {
  return load(io, policy, NULL, out, error);
}

vhdxlog_status vhdxlog_load_into(const vhdxlog_io *io, vhdxlog_policy policy,
                                 const vhdxlog_load_buffers *buffers,
                                 vhdxlog_loaded *out, vhdxlog_error *error) {
  if (buffers == NULL) {
    if (out != NULL)
      memset(out, 0, sizeof *out);
    return fail(error, VHDXLOG_E_ARGUMENT, 0);
  }
  return load(io, policy, buffers, out, error);
}

vhdxlog_status vhdxlog_load(const vhdxlog_io *io, vhdxlog_loaded *out,
                            vhdxlog_error *error) {
  return vhdxlog_load_policy(io, VHDXLOG_POLICY_DEFAULT, out, error);
}

void vhdxlog_loaded_free(vhdxlog_loaded *l) {
  if (l == NULL)
    return;
  if (l->header_area_owned_)
    free(l->header_area);
  free(l->log_buffer_);
  vhdxlog_posix_unmap(&l->log_view_);
  memset(l, 0, sizeof *l);
}
