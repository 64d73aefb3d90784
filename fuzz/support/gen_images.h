/* SPDX-License-Identifier: MIT */
/* The scenario images of gen_corpus --images (gen_images.c), and the
 * helpers gen_corpus.c shares with it. */
#ifndef VHDXLOG_FUZZ_GEN_IMAGES_H
#define VHDXLOG_FUZZ_GEN_IMAGES_H

#include <stddef.h>

/* perror(what), then exit(1). */
void gen_die(const char *what);
/* calloc(1, size), or gen_die(). */
void *gen_calloc(size_t size);

/* argv: [--seed-form] OUTDIR (argv[0] is not read). Returns the exit
 * status. */
int gen_images_main(int argc, char **argv);

#endif
