/* SPDX-License-Identifier: MIT */
/* The scenario images of gen_corpus --images (gen_images.c). */
#ifndef VHDXLOG_FUZZ_GEN_IMAGES_H
#define VHDXLOG_FUZZ_GEN_IMAGES_H

/* argv: [--seed-form] OUTDIR (argv[0] is not read). Returns the exit
 * status. */
int gen_images_main(int argc, char **argv);

#endif
