/* SPDX-License-Identifier: MIT */
/* Open an image through the POSIX backend and load it (header area and log
 * only: the file is read with pread and never loaded whole). */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* F_OFD_GETLK, F_OFD_SETLK */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void fail_open(cli_image *img, int err, const char *fmt,
                      const char *what) {
  img->open_errno = err;
  snprintf(img->message, sizeof img->message, fmt, what);
}

const char *cli_file_kind(mode_t m) {
  return S_ISREG(m)    ? "a regular file"
         : S_ISBLK(m)  ? "a block device"
         : S_ISDIR(m)  ? "a directory"
         : S_ISLNK(m)  ? "a symbolic link"
         : S_ISFIFO(m) ? "a FIFO"
         : S_ISCHR(m)  ? "a character device"
         : S_ISSOCK(m) ? "a socket"
                       : "not a regular file";
}

/* Does `p` (of `n` bytes) hold `sig` at `at`? */
static int has_sig(const uint8_t *p, size_t n, size_t at, const char *sig,
                   size_t len) {
  return n >= len && at <= n - len && memcmp(p + at, sig, len) == 0;
}

/* What the file is when it is no VHDX (by its signature), or NULL when it
 * may be one. `head` holds the first `head_len` bytes, `tail` the last
 * `tail_len` bytes of a file of `size` bytes. */
static const char *sniff_format(const uint8_t *head, size_t head_len,
                                const uint8_t *tail, size_t tail_len,
                                uint64_t size) {
  /* A VHDX cut short is a damaged VHDX, not another format. */
  if (has_sig(head, head_len, 0, "vhdxfile", 8))
    return NULL;
  if (size == 0)
    return "an empty file";
  if (has_sig(head, head_len, 0, "QFI\xfb", 4))
    return "a qcow2 image (\"QFI\\xfb\" at offset 0)";
  if (has_sig(head, head_len, 0, "QED\0", 4))
    return "a QED image (\"QED\\0\" at offset 0)";
  /* VHD: a 512-byte footer "conectix" at the end (a 511-byte one in old
   * files), copied to offset 0 in dynamic and differencing disks. */
  if (has_sig(tail, tail_len, tail_len >= 512 ? tail_len - 512 : tail_len,
              "conectix", 8) ||
      has_sig(tail, tail_len, tail_len >= 511 ? tail_len - 511 : tail_len,
              "conectix", 8))
    return "a VHD image (\"conectix\" footer at the end)";
  if (has_sig(head, head_len, 0, "conectix", 8))
    return "a VHD image (\"conectix\" at offset 0)";
  if (has_sig(head, head_len, 0, "KDMV", 4))
    return "a VMDK image (\"KDMV\" at offset 0)";
  if (has_sig(head, head_len, 0, "# Disk DescriptorFile", 21))
    return "a VMDK descriptor";
  /* VDI: pre-header signature 0xBEDA107F, little-endian, at 0x40. */
  if (has_sig(head, head_len, 0x40, "\x7f\x10\xda\xbe", 4))
    return "a VDI image (signature 0xBEDA107F at offset 0x40)";
  return "no known signature (\"vhdxfile\" expected at offset 0)";
}

/* Read what is needed to name a non-VHDX file: 4 KiB at each end. */
static const char *sniff(int fd, uint64_t size) {
  uint8_t head[4096], tail[512];
  size_t hn = size < sizeof head ? (size_t)size : sizeof head;
  size_t tn = size < sizeof tail ? (size_t)size : sizeof tail;
  ssize_t r;
  if (hn > 0) {
    r = pread(fd, head, hn, 0);
    if (r < 0)
      return NULL;
    hn = (size_t)r;
  }
  if (tn > 0) {
    r = pread(fd, tail, tn, (off_t)(size - tn));
    if (r < 0)
      return NULL;
    tn = (size_t)r;
  }
  /* A header signature in either slot: a VHDX with a damaged identifier,
   * not another format. */
  if (size >= VHDXLOG_HEADER2_OFFSET + 4) {
    uint8_t sig[4];
    if ((pread(fd, sig, 4, VHDXLOG_HEADER1_OFFSET) == 4 &&
         memcmp(sig, "head", 4) == 0) ||
        (pread(fd, sig, 4, VHDXLOG_HEADER2_OFFSET) == 4 &&
         memcmp(sig, "head", 4) == 0))
      return NULL;
  }
  return sniff_format(head, hn, tail, tn, size);
}

/* A failure that is not the file's: no offset, no index. */
static void set_error(cli_image *img, vhdxlog_status st) {
  img->status = st;
  img->error.status = st;
  img->error.cause = st;
  img->error.offset = 0;
  img->error.index = VHDXLOG_NO_INDEX;
}

int cli_image_open(cli_image *img, const char *path, int writable,
                   vhdxlog_policy policy) {
  struct stat st;
  memset(img, 0, sizeof *img);
  img->path = path;
  img->policy = policy;
  set_error(img, VHDXLOG_E_IO);
  /* The backend refuses what is neither a regular file nor a block device
   * (without blocking on a FIFO); the path is looked at only to name it. */
  if (vhdxlog_posix_open(&img->file, path, writable) != 0) {
    int err = errno;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
      fail_open(img, 0, "%s: only regular files and block devices are read",
                cli_file_kind(st.st_mode));
    else if (writable && err == EBUSY)
      fail_open(img, err, "%s", CLI_IN_USE_MESSAGE);
    else
      fail_open(img, err, "cannot open: %s", strerror(err));
    return -1;
  }
  img->file_open = 1;
  img->in_use = !writable && vhdxlog_posix_in_use(&img->file);
  vhdxlog_posix_io(&img->file, &img->io);
  errno = 0;
  img->status =
      vhdxlog_load_policy(&img->io, policy, &img->loaded, &img->error);
  /* The backends leave errno set by the failed call (pread, malloc); the
   * library's status alone would only say "I/O callback failed". */
  img->load_errno =
      img->status == VHDXLOG_E_IO || img->status == VHDXLOG_E_RESOURCE ? errno
                                                                       : 0;
  img->loaded_init = 1;
  if (img->loaded.header_area != NULL) {
    /* The loader does not say how far it got: parse again (cheap: two
     * header checksums and the region tables) to know whether every field
     * of loaded.image is meaningful. */
    vhdxlog_image probe;
    vhdxlog_error perr;
    img->parsed = vhdxlog_image_parse(
                      img->loaded.header_area, VHDXLOG_HEADER_AREA_SIZE,
                      img->loaded.image.file_size, &probe, &perr) == VHDXLOG_OK;
  }
  if (img->status == VHDXLOG_E_FILE_TOO_SMALL ||
      img->status == VHDXLOG_E_FILE_SIGNATURE)
    img->not_vhdx = sniff(img->file.fd, img->loaded.image.file_size);
  if (img->status == VHDXLOG_OK) {
    /* The loader's contract; make a broken one visible instead of acting
     * on a plan that was never validated. */
    if (!img->loaded.plan_ready)
      set_error(img, VHDXLOG_E_ARGUMENT);
  } else if (img->error.status != img->status) {
    /* Keep the message and the exit code consistent. */
    img->error.status = img->status;
  }
  return 0;
}

void cli_image_report(FILE *f, const cli_image *img) {
  if (!img->loaded_init)
    fprintf(f, "%s: %s: %s\n", CLI_PROGRAM, img->path, img->message);
  else if (img->not_vhdx)
    fprintf(f, "%s: %s: not a VHDX file: %s\n", CLI_PROGRAM, img->path,
            img->not_vhdx);
  else
    cli_print_error(f, img->path, &img->error, &img->loaded.image,
                    img->load_errno);
}

void cli_warn_in_use(const cli_image *img) {
  if (img->in_use)
    fprintf(stderr,
            "%s: %s: warning: in use: another process (a running VM, "
            "qemu-img) holds a lock on it; what is shown may be stale\n",
            CLI_PROGRAM, img->path);
}

int cli_image_close(cli_image *img) {
  int rc = 0;
  if (img->loaded_init)
    vhdxlog_loaded_free(&img->loaded);
  img->loaded_init = 0;
  if (img->file_open && vhdxlog_posix_close(&img->file) != 0)
    rc = -1;
  img->file_open = 0;
  return rc;
}

int cli_image_sequence(const cli_image *img, vhdxlog_sequence *seq) {
  vhdxlog_error err;
  if (!img->loaded_init)
    return 0;
  if (img->loaded.plan_ready) {
    if (img->loaded.plan.action != VHDXLOG_ACTION_REPLAY)
      return 0;
    *seq = img->loaded.plan.seq;
    return 1;
  }
  /* The image parsed and the log was read, but the search or the plan
   * failed: searching again tells which (and gives the sequence when only
   * the plan's checks failed). */
  if (!img->loaded.log_ready)
    return 0;
  return vhdxlog_log_search(&img->loaded.log, seq, &err) == VHDXLOG_OK;
}

int cli_image_parsed(const cli_image *img) {
  return img->loaded_init && img->parsed;
}

int cli_image_needs_replay(const cli_image *img) {
  return img->loaded_init && img->loaded.plan_ready &&
         img->loaded.plan.action != VHDXLOG_ACTION_NONE;
}
