/* Open an image through the POSIX backend and load it (header area and log
 * only: the file is read with pread and never loaded whole). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_image_open(cli_image *img, const char *path, int writable) {
  memset(img, 0, sizeof *img);
  img->path = path;
  img->status = VHDXLOG_E_IO;
  img->error.status = VHDXLOG_E_IO;
  img->error.cause = VHDXLOG_E_IO;
  img->error.index = VHDXLOG_NO_INDEX;
  if (vhdxlog_posix_open(&img->file, path, writable) != 0) {
    if (writable && errno == EBUSY)
      snprintf(img->message, sizeof img->message,
               "in use: another process (a VM, qemu-img, another replay) "
               "holds a lock on it; nothing written");
    else
      snprintf(img->message, sizeof img->message, "cannot open: %s",
               strerror(errno));
    return -1;
  }
  img->file_open = 1;
  vhdxlog_posix_io(&img->file, &img->io);
  errno = 0;
  img->status = vhdxlog_load(&img->io, &img->loaded, &img->error);
  /* The backends leave errno set by the failed call (pread, malloc); the
   * library's status alone would only say "I/O callback failed". */
  img->load_errno = img->status == VHDXLOG_E_IO ? errno : 0;
  img->loaded_init = 1;
  if (img->status == VHDXLOG_OK) {
    /* The loader's contract; make a broken one visible instead of acting
     * on a plan that was never validated. */
    if (!img->loaded.plan_ready) {
      img->status = VHDXLOG_E_ARGUMENT;
      img->error.status = VHDXLOG_E_ARGUMENT;
      img->error.cause = VHDXLOG_E_ARGUMENT;
      img->error.offset = 0;
      img->error.index = VHDXLOG_NO_INDEX;
    }
  } else if (img->error.status != img->status) {
    /* Keep the message and the exit code consistent. */
    img->error.status = img->status;
  }
  return 0;
}

void cli_image_report(FILE *f, const cli_image *img) {
  if (!img->loaded_init)
    fprintf(f, "%s: %s: %s\n", CLI_PROGRAM, img->path, img->message);
  else
    cli_print_error(f, img->path, &img->error, &img->loaded.image,
                    img->load_errno);
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
    if (img->loaded.image.log_state != VHDXLOG_LOG_DIRTY)
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
  /* Entry and log rules are checked only after the image parsed. */
  return img->loaded_init && (img->status == VHDXLOG_OK ||
                              (img->status >= VHDXLOG_E_ENTRY_SIGNATURE &&
                               img->status < VHDXLOG_END));
}

int cli_image_needs_replay(const cli_image *img) {
  return img->loaded_init && img->loaded.plan_ready &&
         (img->loaded.plan.replay || img->loaded.plan.complete_header_update);
}
