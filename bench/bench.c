/* SPDX-License-Identifier: MIT */
/*
 * vhdxlog_bench: what each phase costs on benign and hostile logs, in one
 * run (bench/README.md says how to read it):
 *   1. CRC-32C throughput: portable, hardware, dispatching, and memcpy of
 *      the same buffer as a memory-bandwidth yardstick;
 *   2. vhdxlog_log_init + vhdxlog_log_search per pattern and size, with ns
 *      per sector across sizes (is growth linear?);
 *   3. every phase (search, plan, replay, overlay index) per pattern and
 *      size, hostile against benign, compared like with like;
 *   4. vhdxlog_load + vhdxlog_replay of a big dirty log, memory backend.
 * The logs come from testkit/log_patterns.h, sealed with the library's
 * hardware CRC (the testkit's own CRC is bytewise: minutes at 1 GiB); the
 * testkit builds the images around them. Every log is searched once before
 * timing and checked against what its pattern must produce, so a pattern
 * that stopped exercising its path fails the run instead of reporting a
 * flattering number.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "crc32c.h"
#include "log_patterns.h"
#include "mem_file.h"
#include "vhdx_builder.h"
#include "vhdxlog.h"
#include "vhdxlog_io.h"

#define SECTOR 4096u
#define MIB 1048576u
#define MAX_SIZES 8
#define MAX_PATTERNS 32
#define MAX_REPS 255 /* --reps at most */
/* Search patterns are timed interleaved (round by round) at a size where
 * all their logs fit in this much memory, else one after another. */
#define INTERLEAVE_MAX_BYTES (1024ull * MIB)

/* ------------------------------------------------------------------------ */
/* Small helpers.                                                            */

static void die(const char *what) {
  fprintf(stderr, "vhdxlog_bench: %s\n", what);
  exit(2);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (p == NULL)
    die("out of memory");
  return p;
}

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#define now_s() clock_s(CLOCK_MONOTONIC)
/* CPU time of this thread: what the library costs, without the time the
 * scheduler gives to other processes (the machine may be shared). */
#define cpu_s() clock_s(CLOCK_THREAD_CPUTIME_ID)

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

typedef struct stats {
  double median; /* seconds */
  double best;
  int reps;
} stats;

static stats summarize(double *t, int n) {
  stats s;
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  s.best = t[0];
  s.median = (n % 2) ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2.0;
  s.reps = n;
  return s;
}

/* Repeated measurements of one thing: wall clock and thread CPU time. The
 * figure of merit is the best CPU time (least disturbed by other load);
 * the wall-clock median is printed next to it. */
typedef struct samples {
  double wall[MAX_REPS];
  double cpu[MAX_REPS];
  int n;
} samples;

typedef struct timing {
  stats wall;
  stats cpu;
} timing;

typedef struct stopwatch {
  double wall, cpu;
} stopwatch;

static stopwatch sw_start(void) {
  stopwatch w;
  w.wall = now_s();
  w.cpu = cpu_s();
  return w;
}

/* Record the time since `w` and return a stopwatch started now. */
static stopwatch sw_lap(samples *s, stopwatch w) {
  stopwatch now;
  now.cpu = cpu_s();
  now.wall = now_s();
  s->wall[s->n] = now.wall - w.wall;
  s->cpu[s->n] = now.cpu - w.cpu;
  s->n++;
  return now;
}

static timing summarize_samples(samples *s) {
  timing t;
  t.wall = summarize(s->wall, s->n);
  t.cpu = summarize(s->cpu, s->n);
  return t;
}

static void fmt_size(char *out, size_t cap, uint64_t bytes) {
  if (bytes >= 1024ull * MIB && bytes % (1024ull * MIB) == 0)
    snprintf(out, cap, "%llu GiB",
             (unsigned long long)(bytes / (1024ull * MIB)));
  else
    snprintf(out, cap, "%llu MiB", (unsigned long long)(bytes / MIB));
}

static void cpu_model(char *out, size_t cap) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  snprintf(out, cap, "unknown");
  if (f == NULL)
    return;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "model name", 10) == 0) {
      char *colon = strchr(line, ':');
      if (colon != NULL) {
        size_t len;
        colon++;
        while (*colon == ' ' || *colon == '\t')
          colon++;
        len = strlen(colon);
        while (len > 0 && (colon[len - 1] == '\n' || colon[len - 1] == ' '))
          colon[--len] = '\0';
        snprintf(out, cap, "%s", colon);
      }
      break;
    }
  }
  fclose(f);
}

/*
 * Cost of first-touching fresh memory, per 4 KiB page. On some virtual
 * machines a page fault costs tens of microseconds (vs ~0.1-0.3 us on bare
 * metal); vhdxlog_load() allocates and fills a buffer as large as the log,
 * so on such a machine a cold load is dominated by the kernel, not by the
 * library. Printed so that the replay figures can be read.
 */
static double first_touch_us_per_page(void) {
  const size_t size = 64u * MIB;
  double best = 0;
  int r;
  for (r = 0; r < 3; r++) {
    /* Through a volatile pointer: the compiler may not drop the stores as
     * dead before free(). */
    uint8_t *volatile vp;
    double t0 = cpu_s(), t;
    vp = xmalloc(size);
    memset(vp, r + 1, size);
    t = cpu_s() - t0;
    free(vp);
    if (r == 0 || t < best)
      best = t;
  }
  return best * 1e6 / (double)(size / SECTOR);
}

/* Keep freed memory mapped so that repeated runs reuse it (glibc: no mmap
 * for big blocks, no trimming). The replay's first run still pays for fresh
 * memory and is reported as "cold"; the others are "warm". */
static int keep_freed_memory(void) {
#if defined(__GLIBC__)
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1;
#else
  return 0;
#endif
}

/* ------------------------------------------------------------------------ */
/* Options.                                                                  */

typedef struct options {
  int json;
  uint32_t sizes_mib[MAX_SIZES];
  size_t nsizes;
  uint32_t replay_mib[MAX_SIZES];
  size_t nreplay;
  int reps;         /* 0: by size */
  const char *only; /* hostile patterns whose name contains this */
  const char *just; /* only this pattern, no benign reference (profiling) */
  int crc, search, phases, replay;
} options;

static size_t parse_list(const char *s, uint32_t *out, size_t cap) {
  size_t n = 0;
  while (*s != '\0') {
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || v == 0 || v > 4095 || n == cap)
      die("bad size list (MiB, comma separated, 1..4095)");
    out[n++] = (uint32_t)v;
    s = *end == ',' ? end + 1 : end;
    if (*end != ',' && *end != '\0')
      die("bad size list");
  }
  return n;
}

static void usage(void) {
  printf("usage: vhdxlog_bench [options]\n"
         "  --json            print JSON on stdout (the table goes to stderr)\n"
         "  --sizes=1,64,1024 log sizes for the search part, in MiB\n"
         "  --replay=64,1024  log sizes for the replay part, in MiB\n"
         "  --reps=N          repetitions for every timing (default by size;\n"
         "                    at most 255)\n"
         "  --only=NAME       hostile patterns whose name contains NAME "
         "(the\n"
         "                    benign ones always run: they are the reference)\n"
         "  --just=NAME       that one pattern alone, no reference "
         "(profiling)\n"
         "  --no-crc --no-search --no-phases --no-replay   skip a part\n"
         "  --quick           sizes 1,64 and replay 64\n");
}

static void parse_options(int argc, char **argv, options *o) {
  int i;
  memset(o, 0, sizeof *o);
  o->nsizes = parse_list("1,64,1024", o->sizes_mib, MAX_SIZES);
  o->nreplay = parse_list("64,1024", o->replay_mib, MAX_SIZES);
  o->crc = o->search = o->phases = o->replay = 1;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--json") == 0)
      o->json = 1;
    else if (strncmp(a, "--sizes=", 8) == 0)
      o->nsizes = parse_list(a + 8, o->sizes_mib, MAX_SIZES);
    else if (strncmp(a, "--replay=", 9) == 0)
      o->nreplay = parse_list(a + 9, o->replay_mib, MAX_SIZES);
    else if (strncmp(a, "--reps=", 7) == 0)
      o->reps = atoi(a + 7);
    else if (strncmp(a, "--only=", 7) == 0)
      o->only = a + 7;
    else if (strncmp(a, "--just=", 7) == 0)
      o->just = a + 7;
    else if (strcmp(a, "--no-crc") == 0)
      o->crc = 0;
    else if (strcmp(a, "--no-search") == 0)
      o->search = 0;
    else if (strcmp(a, "--no-replay") == 0)
      o->replay = 0;
    else if (strcmp(a, "--no-phases") == 0)
      o->phases = 0;
    else if (strcmp(a, "--quick") == 0) {
      o->nsizes = parse_list("1,64", o->sizes_mib, MAX_SIZES);
      o->nreplay = parse_list("64", o->replay_mib, MAX_SIZES);
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      exit(0);
    } else {
      usage();
      exit(2);
    }
  }
  if (o->reps < 0 || o->reps > MAX_REPS)
    die("--reps must be 1..255");
}

static int reps_for(const options *o, uint64_t bytes) {
  if (o->reps > 0)
    return o->reps;
  if (bytes <= 4ull * MIB)
    return 51;
  if (bytes <= 256ull * MIB)
    return 7;
  return 3;
}

/* ------------------------------------------------------------------------ */
/* JSON output: records go to a memory stream, printed at the end.         */

static FILE *json;

/* ------------------------------------------------------------------------ */
/* Part 1: CRC-32C.                                                          */

typedef struct crc_row {
  const char *name;
  timing t;
  uint32_t result;
} crc_row;

static void bench_crc(const options *o, FILE *tab) {
  const size_t size = 64u * MIB;
  const int reps = o->reps > 0 ? o->reps : 9;
  uint8_t *src = xmalloc(size), *dst = xmalloc(size);
  crc_row rows[4];
  size_t nrows = 0, i;
  vtk_rng rng;
  int r, which;

  vtk_rng_seed(&rng, 0xC4C32Cu);
  for (i = 0; i < size; i += 8) {
    uint64_t v = vtk_rng_next(&rng);
    memcpy(src + i, &v, 8);
  }
  memset(dst, 0, size); /* fault the pages in before timing */

  for (which = 0; which < 4; which++) {
    static const char *const names[4] = {
        "crc32c portable (slicing-by-8)", "crc32c hardware (SSE4.2/ARMv8)",
        "vhdxlog_crc32c (dispatching)", "memcpy (same buffer)"};
    uint32_t result = 0;
    samples sm;
    if (which == 1 && !vhdxlog_crc32c_hw_available())
      continue;
    sm.n = 0;
    for (r = 0; r < reps; r++) {
      stopwatch w = sw_start();
      if (which == 0)
        result = ~vhdxlog_crc32c_update_portable(~0u, src, size);
      else if (which == 1)
        result = ~vhdxlog_crc32c_update_hw(~0u, src, size);
      else if (which == 2)
        result = vhdxlog_crc32c(0, src, size);
      else {
        memcpy(dst, src, size);
        result = dst[(size_t)r * 4099u % size];
      }
      sw_lap(&sm, w);
    }
    rows[nrows].name = names[which];
    rows[nrows].t = summarize_samples(&sm);
    rows[nrows].result = result;
    nrows++;
  }
  for (i = 1; i + 1 < nrows; i++) {
    if (rows[i].result != rows[0].result)
      die("CRC paths disagree");
  }

  fprintf(tab, "\n== CRC-32C over %u MiB (%d runs) ==\n",
          (unsigned)(size / MIB), reps);
  fprintf(tab, "%-32s %12s %10s %14s %10s\n", "path", "cpu best ms", "GB/s",
          "wall median ms", "GB/s");
  fprintf(json, "  \"crc\": [\n");
  for (i = 0; i < nrows; i++) {
    double gb = (double)size / rows[i].t.cpu.best / 1e9;
    double gbw = (double)size / rows[i].t.wall.median / 1e9;
    fprintf(tab, "%-32s %12.2f %10.2f %14.2f %10.2f\n", rows[i].name,
            rows[i].t.cpu.best * 1e3, gb, rows[i].t.wall.median * 1e3, gbw);
    fprintf(json,
            "    {\"path\": \"%s\", \"bytes\": %zu, \"reps\": %d, "
            "\"cpu_best_s\": %.6f, \"cpu_median_s\": %.6f, "
            "\"wall_best_s\": %.6f, \"wall_median_s\": %.6f, "
            "\"gbps_cpu_best\": %.3f, \"gbps_wall_median\": %.3f}%s\n",
            rows[i].name, size, reps, rows[i].t.cpu.best, rows[i].t.cpu.median,
            rows[i].t.wall.best, rows[i].t.wall.median, gb, gbw,
            i + 1 < nrows ? "," : "");
  }
  fprintf(json, "  ],\n");
  free(src);
  free(dst);
}

/* Status name without its "VHDXLOG_E_" prefix. */
static const char *short_name(vhdxlog_status st) {
  const char *s = vhdxlog_status_name(st);
  return strncmp(s, "VHDXLOG_E_", 10) == 0 ? s + 10 : s;
}

/* One vhdxlog_log_init + vhdxlog_log_search, timed into `sm` if given. */
static void run_search(const uint8_t *log, size_t len, const uint8_t guid[16],
                       vhdxlog_status *st, vhdxlog_sequence *seq,
                       vhdxlog_error *err, samples *sm) {
  vhdxlog_log ctx;
  stopwatch w = sw_start();
  *st = vhdxlog_log_init(&ctx, log, len, guid);
  if (*st == VHDXLOG_OK)
    *st = vhdxlog_log_search(&ctx, seq, err);
  if (sm != NULL)
    sw_lap(sm, w);
}

/* The generator of the search and phase parts: hardware CRC, writes into
 * 64 MiB of targets from 8 MiB. */
static void lp_log_init(vtk_lp_log *g) {
  memset(g, 0, sizeof *g);
  g->crc = vhdxlog_crc32c;
  vtk_guid(g->guid, 0x106u);
  g->target_base = 8ull * MIB;
  g->target_sectors = 16384;
}

/* The status and cause a search must report on a pattern's log. */
static void expected_status(vtk_lp_expect x, vhdxlog_status *st,
                            vhdxlog_status *cause) {
  static const vhdxlog_status causes[] = {
      VHDXLOG_OK, VHDXLOG_E_ENTRY_CHECKSUM, VHDXLOG_E_DESCRIPTOR_RESERVED,
      VHDXLOG_E_DATA_COUNT, VHDXLOG_E_DATA_SIGNATURE};
  *st = x == VTK_LP_SEQUENCE ? VHDXLOG_OK : VHDXLOG_E_LOG_NO_SEQUENCE;
  *cause = causes[x];
}

static void check_expectation(const vtk_lp_log *g, const vtk_lp_pattern *pt,
                              vhdxlog_status st, const vhdxlog_sequence *seq,
                              const vhdxlog_error *err) {
  vhdxlog_status want, want_cause;
  int ok;
  expected_status(g->expect, &want, &want_cause);
  ok = st == want;
  if (ok && st == VHDXLOG_OK)
    ok = seq->entry_count == g->expect_entries &&
         seq->tail_offset == g->expect_tail;
  if (ok && st == VHDXLOG_E_LOG_NO_SEQUENCE)
    ok = err->cause == want_cause;
  if (!ok) {
    fprintf(stderr,
            "pattern %s (%u sectors) does not do what it should: got %s "
            "(cause %s, %u entries, tail %u), expected %s (cause %s, %u "
            "entries, tail %u)\n",
            pt->name, g->n, vhdxlog_status_name(st),
            vhdxlog_status_name(err->cause), seq->entry_count, seq->tail_offset,
            vhdxlog_status_name(want), vhdxlog_status_name(want_cause),
            g->expect_entries, g->expect_tail);
    exit(3);
  }
}

typedef struct search_row {
  uint64_t bytes;
  const vtk_lp_pattern *pt;
  timing t;
  char result[64];
  double ratio_cheapest; /* / cheapest benign at this size (cpu best) */
  double ratio_full;     /* / b-full at this size (cpu best) */
  int interleaved;       /* timed round by round with the other patterns */
} search_row;

static double ns_per_sector(const search_row *row) {
  return row->t.cpu.best * 1e9 / (double)(row->bytes / SECTOR);
}

/* The patterns to run: the benign ones always (they are the reference),
 * the hostile ones --only and --just leave. */
static size_t pick_patterns(const options *o, const vtk_lp_pattern **pick) {
  size_t pi, n = 0;
  for (pi = 0; pi < vtk_lp_pattern_count && n < MAX_PATTERNS; pi++) {
    const vtk_lp_pattern *pt = &vtk_lp_patterns[pi];
    if (o->only != NULL && pt->hostile && strstr(pt->name, o->only) == NULL)
      continue;
    if (o->just != NULL && strcmp(pt->name, o->just) != 0)
      continue;
    pick[n++] = pt;
  }
  return n;
}

/* A summary's header: the first column's title, then one column a size. */
static void size_columns(const options *o, FILE *tab, const char *first,
                         int first_width, int width) {
  size_t si;
  fprintf(tab, "%-*s", first_width, first);
  for (si = 0; si < o->nsizes; si++) {
    char sz[32];
    fmt_size(sz, sizeof sz, (uint64_t)o->sizes_mib[si] * MIB);
    fprintf(tab, " %*s", width, sz);
  }
}

/* Ratio per pattern and size; growth of the per-sector cost between the
 * two largest sizes (both beyond the caches) and between the smallest and
 * the largest. */
static void search_summary(const options *o, FILE *tab, const search_row *rows,
                           size_t nrows) {
  size_t si, pi;
  fprintf(tab, "\n== Hostile / benign (cpu best; target <= 3) ==\n");
  fprintf(tab, "cell: time / cheapest benign at that size [time / b-full]; "
               "growth: ns/sector of the largest size over the second "
               "largest, and over the smallest\n");
  size_columns(o, tab, "pattern", 17, 13);
  fprintf(tab, "  %8s %8s\n", "growth", "growth");
  {
    double worst = 0;
    const search_row *worst_row = NULL;
    for (pi = 0; pi < vtk_lp_pattern_count; pi++) {
      const search_row *lo = NULL, *hi = NULL, *mid = NULL;
      for (si = 0; si < nrows; si++) {
        const search_row *row = &rows[si];
        char cell[32];
        if (row->pt != &vtk_lp_patterns[pi])
          continue;
        if (lo == NULL) /* the pattern's first row */
          fprintf(tab, "%-17s", vtk_lp_patterns[pi].name);
        snprintf(cell, sizeof cell, "%.2f [%.2f]", row->ratio_cheapest,
                 row->ratio_full);
        fprintf(tab, " %13s", cell);
        if (lo == NULL || row->bytes < lo->bytes)
          lo = row;
        if (hi == NULL || row->bytes > hi->bytes) {
          mid = hi;
          hi = row;
        } else if (mid == NULL || row->bytes > mid->bytes) {
          mid = row;
        }
        if (vtk_lp_patterns[pi].hostile && row->ratio_cheapest > worst) {
          worst = row->ratio_cheapest;
          worst_row = row;
        }
      }
      if (lo == NULL)
        continue;
      if (mid != NULL)
        fprintf(tab, "  %7.2fx", ns_per_sector(hi) / ns_per_sector(mid));
      if (lo != hi)
        fprintf(tab, " %7.2fx", ns_per_sector(hi) / ns_per_sector(lo));
      fprintf(tab, "\n");
    }
    if (worst_row != NULL) {
      char sz[32];
      fmt_size(sz, sizeof sz, worst_row->bytes);
      fprintf(tab,
              "worst hostile: %s at %s: %.2f x cheapest benign "
              "(%.2f x b-full)\n",
              worst_row->pt->name, sz, worst_row->ratio_cheapest,
              worst_row->ratio_full);
    }
  }
  fprintf(tab, "\npatterns:\n");
  for (pi = 0; pi < vtk_lp_pattern_count; pi++)
    fprintf(tab, "  %-17s %s\n", vtk_lp_patterns[pi].name,
            vtk_lp_patterns[pi].what);
}

static void search_json(const search_row *rows, size_t nrows) {
  size_t si;
  fprintf(json, "  \"search\": [\n");
  for (si = 0; si < nrows; si++) {
    const search_row *row = &rows[si];
    fprintf(json,
            "    {\"bytes\": %llu, \"pattern\": \"%s\", \"hostile\": %s, "
            "\"result\": \"%s\", \"reps\": %d, \"cpu_best_s\": %.6f, "
            "\"cpu_median_s\": %.6f, \"wall_best_s\": %.6f, "
            "\"wall_median_s\": %.6f, \"gbps_cpu_best\": %.3f, "
            "\"ns_per_sector\": %.2f, \"ratio_cheapest_benign\": %.3f, "
            "\"ratio_b_full\": %.3f, \"interleaved\": %s}%s\n",
            (unsigned long long)row->bytes, row->pt->name,
            row->pt->hostile ? "true" : "false", row->result, row->t.cpu.reps,
            row->t.cpu.best, row->t.cpu.median, row->t.wall.best,
            row->t.wall.median, (double)row->bytes / row->t.cpu.best / 1e9,
            ns_per_sector(row), row->ratio_cheapest, row->ratio_full,
            row->interleaved ? "true" : "false", si + 1 < nrows ? "," : "");
  }
  fprintf(json, "  ],\n");
}

static void bench_search(const options *o, FILE *tab) {
  uint64_t max_bytes = 0;
  size_t si, pi, nrows = 0;
  search_row *rows =
      xmalloc(sizeof(search_row) * o->nsizes * vtk_lp_pattern_count);
  const vtk_lp_pattern *pick[MAX_PATTERNS];
  uint8_t *logs[MAX_PATTERNS];
  samples sm[MAX_PATTERNS];
  uint8_t *shared_log;
  vtk_lp_log g;

  for (si = 0; si < o->nsizes; si++) {
    uint64_t b = (uint64_t)o->sizes_mib[si] * MIB;
    if (b > max_bytes)
      max_bytes = b;
  }
  lp_log_init(&g);
  shared_log = xmalloc((size_t)max_bytes);
  g.starts = xmalloc(sizeof(uint32_t) * (size_t)(max_bytes / SECTOR + 1));

  fprintf(tab, "\n== Validation + search: vhdxlog_log_init + "
               "vhdxlog_log_search ==\n");
  fprintf(tab, "times: best thread-CPU time of N runs (GB/s and ns/sector "
               "from it), wall-clock median beside it;\n"
               "/cheap = cpu best / cheapest benign at that size, "
               "/b-full = / b-full at that size\n");
  fprintf(tab, "%-7s %-17s %-24s %3s %11s %8s %9s %11s %7s %7s\n", "size",
          "pattern", "result", "N", "cpu best ms", "GB/s", "ns/sector",
          "wall med ms", "/cheap", "/b-full");

  for (si = 0; si < o->nsizes; si++) {
    uint64_t bytes = (uint64_t)o->sizes_mib[si] * MIB;
    int reps = reps_for(o, bytes);
    double cheapest = 0, full = 0;
    size_t first = nrows, npick;
    int interleave, r;
    char sz[32];

    g.n = (uint32_t)(bytes / SECTOR);
    fmt_size(sz, sizeof sz, bytes);
    /* Which patterns run at this size (benign rows are always measured:
     * they are the reference), and whether all their logs fit in memory at
     * once. */
    npick = pick_patterns(o, pick);
    interleave = (uint64_t)npick * bytes <= INTERLEAVE_MAX_BYTES;
    for (pi = 0; pi < npick; pi++) {
      const vtk_lp_pattern *pt = pick[pi];
      vhdxlog_sequence seq;
      vhdxlog_error err;
      vhdxlog_status st;
      search_row *row = &rows[first + pi];

      if (interleave) {
        /* Zeroed, so that any byte a generator leaves alone reads the
         * same in every run. */
        g.log = logs[pi] = xmalloc((size_t)bytes);
        memset(g.log, 0, (size_t)bytes);
      } else {
        g.log = shared_log;
      }
      vtk_lp_generate(&g, pt);
      memset(&seq, 0, sizeof seq);
      memset(&err, 0, sizeof err);
      run_search(g.log, (size_t)bytes, g.guid, &st, &seq, &err, NULL);
      check_expectation(&g, pt, st, &seq, &err);
      row->bytes = bytes;
      row->pt = pt;
      row->interleaved = interleave;
      if (st == VHDXLOG_OK)
        snprintf(row->result, sizeof row->result, "OK, %u entries",
                 seq.entry_count);
      else
        snprintf(row->result, sizeof row->result, "NO_SEQ/%s",
                 short_name(err.cause));
      sm[pi].n = 0;
      if (!interleave) {
        /* Timed now, back to back, before the next pattern overwrites
         * the log. */
        for (r = 0; r < reps; r++)
          run_search(g.log, (size_t)bytes, g.guid, &st, &seq, &err, &sm[pi]);
      }
    }
    if (interleave) {
      /* Round r times every pattern once, each right after an untimed
       * run of its own (the same cache state as back-to-back runs), so that a
       * slow stretch of the machine (a busy sibling hyperthread, another
       * guest) falls on all patterns alike instead of skewing one ratio.
       */
      for (r = 0; r < reps; r++) {
        for (pi = 0; pi < npick; pi++) {
          vhdxlog_sequence seq;
          vhdxlog_error err;
          vhdxlog_status st;
          run_search(logs[pi], (size_t)bytes, g.guid, &st, &seq, &err, NULL);
          run_search(logs[pi], (size_t)bytes, g.guid, &st, &seq, &err, &sm[pi]);
        }
      }
      for (pi = 0; pi < npick; pi++) {
        free(logs[pi]);
        logs[pi] = NULL;
      }
      g.log = NULL;
    }
    for (pi = 0; pi < npick; pi++) {
      search_row *row = &rows[first + pi];
      row->t = summarize_samples(&sm[pi]);
      if (!row->pt->hostile) {
        if (cheapest == 0 || row->t.cpu.best < cheapest)
          cheapest = row->t.cpu.best;
        if (strcmp(row->pt->name, "b-full") == 0)
          full = row->t.cpu.best;
      }
    }
    nrows += npick;
    fprintf(tab, "(%s: %s)\n", sz,
            interleave ? "patterns interleaved run by run"
                       : "patterns one after another (not all fit in memory)");
    for (pi = first; pi < nrows; pi++) {
      search_row *row = &rows[pi];
      row->ratio_cheapest = cheapest > 0 ? row->t.cpu.best / cheapest : 0;
      row->ratio_full = full > 0 ? row->t.cpu.best / full : 0;
      fprintf(tab,
              "%-7s %-17s %-24s %3d %11.3f %8.2f %9.1f %11.3f %7.2f "
              "%7.2f\n",
              sz, row->pt->name, row->result, row->t.cpu.reps,
              row->t.cpu.best * 1e3, (double)bytes / row->t.cpu.best / 1e9,
              ns_per_sector(row), row->t.wall.median * 1e3, row->ratio_cheapest,
              row->ratio_full);
    }
    fflush(tab);
  }

  search_summary(o, tab, rows, nrows);
  search_json(rows, nrows);

  free(shared_log);
  free(g.starts);
  free(rows);
}

/* ------------------------------------------------------------------------ */
/* Part 2b: every phase on every pattern: search, plan, replay, overlay.
 */

/* Image layout: headers | BAT at 1 MiB | metadata at 2 MiB | the 64 MiB the
 * patterns write, from 8 MiB | the log at 80 MiB. */
#define PH_LOG_OFFSET (80ull * MIB)
#define PH_READS 4096     /* indexed overlay reads per timing */
#define PH_LINEAR_READS 4 /* linear overlay reads (context only) */
/* Phases are timed interleaved when every pattern's image fits in this.
 */
#define PH_INTERLEAVE_MAX_BYTES (2048ull * MIB)

/* The phases and their names, one list so that the two cannot drift. */
#define PH_LIST(X)                                                             \
  X(PH_SEARCH, "search")                                                       \
  X(PH_PLAN, "plan")                                                           \
  X(PH_REPLAY, "replay (memory file)")                                         \
  X(PH_REPLAY_NULL, "replay (null I/O)")                                       \
  X(PH_BUILD, "index build")                                                   \
  X(PH_READ, "overlay read")
#define PH_ENUM(id, name) id,
#define PH_NAME(id, name) name,
enum { PH_LIST(PH_ENUM) PH_COUNT };
static const char *const ph_names[PH_COUNT] = {PH_LIST(PH_NAME)};

/* Writes that store nothing: with the memory file's other calls, a backend
 * that shows the replay's own cost, without the bytes the log makes the
 * backend write. */
static int null_write(void *ctx, uint64_t offset, const void *buf,
                      size_t size) {
  (void)ctx;
  (void)offset;
  (void)buf;
  (void)size;
  return 0;
}
static int null_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  (void)ctx;
  (void)offset;
  (void)size;
  return 0;
}

typedef struct ph_case {
  const vtk_lp_pattern *pt;
  vtk_image img;
  vhdxlog_image image;
  vhdxlog_log ctx;
  vhdxlog_plan plan;
  vhdxlog_status plan_status;
  vtk_mem_file file; /* over img.data: replay writes into the image */
  vhdxlog_io io;
  vhdxlog_io null_io;
  uint64_t reads[PH_READS]; /* 4 KiB-aligned offsets the log writes */
  void *scratch;
  size_t scratch_size;
  vhdxlog_overlay_index index;
  uint64_t writes, bytes_written, descriptors, extents;
  double linear_read_s; /* one linear overlay read, best of a few; 0: none */
  samples sm[PH_COUNT];
  timing t[PH_COUNT];
  int has[PH_COUNT];
} ph_case;

static void ph_build(ph_case *c, const vtk_lp_pattern *pt, uint64_t bytes,
                     vtk_lp_log *g) {
  vtk_image_spec spec;
  vhdxlog_error err;
  int i;

  memset(c, 0, sizeof *c);
  c->pt = pt;
  vtk_image_spec_default(&spec);
  spec.log_offset = PH_LOG_OFFSET;
  spec.log_length = (uint32_t)bytes;
  spec.bat_offset = MIB;
  spec.bat_length = MIB;
  spec.metadata_offset = 2ull * MIB;
  spec.metadata_length = MIB;
  spec.file_size = PH_LOG_OFFSET + bytes;
  spec.fill_seed = 0;
  memcpy(spec.log_guid, g->guid, 16);
  vtk_image_build(&c->img, &spec);
  g->log = c->img.data + PH_LOG_OFFSET;
  vtk_lp_generate(g, pt);
  g->log = NULL;
  if (vhdxlog_image_parse(c->img.data, VHDXLOG_HEADER_AREA_SIZE, c->img.size,
                          &c->image, &err) != VHDXLOG_OK ||
      c->image.log_state != VHDXLOG_LOG_DIRTY)
    die("phases: image does not parse as dirty");
  if (vhdxlog_log_init(&c->ctx, c->img.data + PH_LOG_OFFSET, (size_t)bytes,
                       c->image.log_guid) != VHDXLOG_OK)
    die("phases: vhdxlog_log_init");
  c->plan_status = vhdxlog_plan_init(&c->plan, &c->image, &c->ctx, &err);
  /* Patterns with a sequence must make a replay plan; the others are
   * refused (damaged armed logs under the default policy). */
  if ((g->expect == VTK_LP_SEQUENCE) !=
      (c->plan_status == VHDXLOG_OK && c->plan.action == VHDXLOG_ACTION_REPLAY))
    die("phases: unexpected plan");
  c->file.data = c->img.data;
  c->file.size = c->file.capacity = c->img.size;
  c->file.max_size = c->img.size;
  c->file.fail_at_write = -1;
  vtk_mem_io(&c->file, &c->io);
  /* The file is at its replayed size already (max_size: no growth). */
  c->null_io = c->io;
  c->null_io.write = null_write;
  c->null_io.write_zeros = null_write_zeros;
  if (c->plan.replay) {
    /* Reads land on bytes the log writes: a reservoir sample of written
     * sectors over every descriptor, so that every pattern's reads copy
     * (or zero) a whole sector. */
    vhdxlog_iter it;
    vhdxlog_descriptor d;
    uint64_t seen = 0;
    vtk_rng rng;
    vtk_rng_seed(&rng, 0x0E7Au);
    if (vhdxlog_iter_init(&it, &c->ctx, &c->plan.seq) != VHDXLOG_OK)
      die("phases: iter");
    while (vhdxlog_iter_next(&it, &d) == VHDXLOG_OK) {
      uint64_t at, slot;
      if (d.length == 0)
        continue;
      at = d.file_offset + (vtk_rng_next(&rng) % (d.length / SECTOR)) * SECTOR;
      slot = seen < PH_READS ? seen : vtk_rng_next(&rng) % (seen + 1);
      if (slot < PH_READS)
        c->reads[slot] = at;
      seen++;
    }
    for (i = 0; seen > 0 && (uint64_t)i < PH_READS; i++)
      if ((uint64_t)i >= seen)
        c->reads[i] = c->reads[(uint64_t)i % seen];
    c->descriptors = c->plan.seq.descriptor_count;
    c->scratch_size = vhdxlog_overlay_index_size(&c->plan);
    if (c->scratch_size == SIZE_MAX)
      die("phases: index too large for size_t");
    c->scratch = c->scratch_size > 0 ? xmalloc(c->scratch_size) : NULL;
    if (c->scratch != NULL)
      memset(c->scratch, 0, c->scratch_size); /* fault it in untimed */
  }
  if (c->plan.replay && c->plan.seq.descriptor_count == 0)
    die("phases: a replay pattern without descriptors");
  for (i = 0; i < PH_COUNT; i++)
    c->has[i] = i <= PH_PLAN || c->plan.replay;
}

static void ph_free(ph_case *c) {
  free(c->scratch);
  vtk_image_free(&c->img);
}

/* One round of every phase; timed into c->sm when `timed`. */
static void ph_run(ph_case *c, uint8_t *buffer, size_t buffer_size,
                   uint8_t *sector, int timed) {
  const uint64_t *reads = c->reads;
  vhdxlog_sequence seq;
  vhdxlog_error err;
  vhdxlog_status st;
  vhdxlog_plan plan;
  vhdxlog_replay_result res;
  stopwatch w;
  int i;

  run_search(c->ctx.log, c->ctx.length, c->image.log_guid, &st, &seq, &err,
             timed ? &c->sm[PH_SEARCH] : NULL);
  w = sw_start();
  st = vhdxlog_plan_init(&plan, &c->image, &c->ctx, &err);
  if (timed)
    sw_lap(&c->sm[PH_PLAN], w);
  if (st != c->plan_status)
    die("phases: plan differs between runs");
  if (!c->plan.replay)
    return;
  w = sw_start();
  st = vhdxlog_replay(&c->plan, &c->io, buffer, buffer_size, &res, &err);
  if (timed)
    sw_lap(&c->sm[PH_REPLAY], w);
  if (st != VHDXLOG_OK || !res.replayed)
    die("phases: replay failed");
  c->writes = res.writes;
  c->bytes_written = res.bytes_written;
  w = sw_start();
  st = vhdxlog_replay(&c->plan, &c->null_io, buffer, buffer_size, &res, &err);
  if (timed)
    sw_lap(&c->sm[PH_REPLAY_NULL], w);
  if (st != VHDXLOG_OK || !res.replayed || res.writes != c->writes)
    die("phases: replay (null I/O) failed");
  w = sw_start();
  st = vhdxlog_overlay_index_build(&c->plan, c->scratch, c->scratch_size,
                                   &c->index, &err);
  if (timed)
    sw_lap(&c->sm[PH_BUILD], w);
  if (st != VHDXLOG_OK)
    die("phases: index build failed");
  c->extents = c->index.extents;
  w = sw_start();
  for (i = 0; i < PH_READS; i++)
    if (vhdxlog_overlay_read_indexed(&c->index, reads[i], sector, SECTOR,
                                     &err) != VHDXLOG_OK)
      die("phases: indexed read failed");
  if (timed)
    sw_lap(&c->sm[PH_READ], w);
}

/* A few linear overlay reads, for comparison (not a phase of the table). */
static void ph_linear(ph_case *c, uint8_t *sector, uint8_t *check) {
  const uint64_t *reads = c->reads;
  vhdxlog_error err;
  int i;
  if (!c->plan.replay)
    return;
  for (i = 0; i < PH_LINEAR_READS; i++) {
    double t0 = cpu_s(), t;
    if (vhdxlog_overlay_read(&c->plan, reads[i], sector, SECTOR, &err) !=
        VHDXLOG_OK)
      die("phases: linear read failed");
    t = cpu_s() - t0;
    if (c->linear_read_s == 0 || t < c->linear_read_s)
      c->linear_read_s = t;
    /* the index must give the same bytes (both over the same buffer) */
    memcpy(check, sector, SECTOR);
    if (vhdxlog_overlay_read_indexed(&c->index, reads[i], check, SECTOR,
                                     &err) != VHDXLOG_OK ||
        memcmp(check, sector, SECTOR) != 0)
      die("phases: indexed and linear overlay differ");
  }
}

static double ph_ratio(double t, double ref) { return ref > 0 ? t / ref : 0; }

/*
 * What a phase's time is divided by before two patterns are compared, so
 * that like is compared with like: the replay into a memory file by the
 * bytes the log makes it write (one zero descriptor may ask for 2^62
 * bytes: the output is not bounded by the log's size), the index build by
 * the descriptors it indexes (a hostile log packs 126 into 4 KiB, a benign
 * one about one). The other phases: by the log, whose size is the same.
 * The bracketed ratios in the summary are the same times unnormalised.
 */
static double ph_units(const ph_case *c, int ph) {
  if (ph == PH_REPLAY)
    return (double)c->bytes_written;
  if (ph == PH_BUILD)
    return (double)c->descriptors;
  return 1.0;
}

/* Time, ratio to the reference per unit (the target), ratio per log. */
typedef struct ph_cell {
  double t, x, raw;
} ph_cell;

typedef struct ph_worst {
  double x[MAX_SIZES][PH_COUNT], raw[MAX_SIZES][PH_COUNT];
  const vtk_lp_pattern *at[MAX_SIZES][PH_COUNT];
} ph_worst;

/* Every pattern of one size, built and timed. */
static int ph_time_size(uint64_t bytes, ph_case *cases,
                        const vtk_lp_pattern **pick, size_t npick,
                        vtk_lp_log *g, int reps) {
  const size_t buffer_size = MIB;
  uint8_t *buffer = xmalloc(buffer_size);
  uint8_t *sector = xmalloc(SECTOR), *check = xmalloc(SECTOR);
  int interleave =
      (uint64_t)npick * (bytes + PH_LOG_OFFSET) <= PH_INTERLEAVE_MAX_BYTES;
  size_t pi;
  int r;

  g->n = (uint32_t)(bytes / SECTOR);
  g->starts = xmalloc(sizeof(uint32_t) * (size_t)(g->n + 1));
  if (interleave) {
    for (pi = 0; pi < npick; pi++)
      ph_build(&cases[pi], pick[pi], bytes, g);
    for (r = 0; r < reps; r++)
      for (pi = 0; pi < npick; pi++) {
        ph_run(&cases[pi], buffer, buffer_size, sector, 0);
        ph_run(&cases[pi], buffer, buffer_size, sector, 1);
      }
    for (pi = 0; pi < npick; pi++)
      ph_linear(&cases[pi], sector, check);
  } else {
    /* One image at a time, kept only for its timings. */
    for (pi = 0; pi < npick; pi++) {
      ph_case *c = &cases[pi];
      ph_build(c, pick[pi], bytes, g);
      ph_run(c, buffer, buffer_size, sector, 0);
      for (r = 0; r < reps; r++)
        ph_run(c, buffer, buffer_size, sector, 1);
      if (bytes <= 256ull * MIB)
        ph_linear(c, sector, check);
      free(c->scratch);
      c->scratch = NULL;
      vtk_image_free(&c->img);
    }
  }
  free(g->starts);
  g->starts = NULL;
  free(buffer);
  free(sector);
  free(check);
  return interleave;
}

/* The cells of every pattern of one size: search and plan against the
 * cheapest benign log (they read the whole log whatever is active), the
 * others against b-full (whole log active: the active sequence's work). */
static void ph_cells(ph_case *cases, size_t npick, ph_cell (*cell)[PH_COUNT]) {
  const ph_case *full = NULL;
  double cheap[PH_COUNT];
  size_t pi;
  int ph;

  for (ph = 0; ph < PH_COUNT; ph++)
    cheap[ph] = 0;
  for (pi = 0; pi < npick; pi++) {
    ph_case *c = &cases[pi];
    for (ph = 0; ph < PH_COUNT; ph++) {
      if (!c->has[ph])
        continue;
      c->t[ph] = summarize_samples(&c->sm[ph]);
      if (!c->pt->hostile && (cheap[ph] == 0 || c->t[ph].cpu.best < cheap[ph]))
        cheap[ph] = c->t[ph].cpu.best;
    }
    if (strcmp(c->pt->name, "b-full") == 0)
      full = c;
  }
  for (pi = 0; pi < npick; pi++) {
    const ph_case *c = &cases[pi];
    for (ph = 0; ph < PH_COUNT; ph++) {
      ph_cell *x = &cell[pi][ph];
      double ref = ph <= PH_PLAN                   ? cheap[ph]
                   : full != NULL && full->has[ph] ? full->t[ph].cpu.best
                                                   : 0;
      double u = ph_units(c, ph),
             ref_u = ph <= PH_PLAN || full == NULL ? 1.0 : ph_units(full, ph);
      memset(x, 0, sizeof *x);
      if (!c->has[ph])
        continue;
      x->t = c->t[ph].cpu.best;
      x->raw = ph_ratio(x->t, ref);
      /* The reference scaled up to the same units, never down: a pattern
       * that asks for less work must still cost at most 3 times the
       * reference's total. */
      x->x = ph_ratio(x->t, ref * (u > ref_u ? u / ref_u : 1.0));
    }
  }
}

static void ph_print_size(FILE *tab, const char *sz, uint64_t bytes, int reps,
                          int interleave, ph_case *cases, size_t npick,
                          size_t si, ph_worst *worst) {
  ph_cell cell[MAX_PATTERNS][PH_COUNT];
  size_t pi;
  int ph;

  ph_cells(cases, npick, cell);
  fprintf(tab, "(%s: %s, %d runs)\n", sz,
          interleave ? "patterns interleaved run by run"
                     : "patterns one after another",
          reps);
  for (pi = 0; pi < npick; pi++) {
    const ph_case *c = &cases[pi];
    char s[PH_COUNT][2][24], lin[24];
    for (ph = 0; ph < PH_COUNT; ph++) {
      const ph_cell *x = &cell[pi][ph];
      if (!c->has[ph]) {
        snprintf(s[ph][0], 24, "-");
        snprintf(s[ph][1], 24, "-");
        continue;
      }
      snprintf(s[ph][0], 24, "%.3f",
               ph == PH_READ ? x->t * 1e6 / PH_READS : x->t * 1e3);
      snprintf(s[ph][1], 24, "%.2f", x->x);
      if (c->pt->hostile && x->x > worst->x[si][ph]) {
        worst->x[si][ph] = x->x;
        worst->at[si][ph] = c->pt;
      }
      if (c->pt->hostile && x->raw > worst->raw[si][ph])
        worst->raw[si][ph] = x->raw;
      fprintf(json,
              "    {\"bytes\": %llu, \"pattern\": \"%s\", \"phase\": "
              "\"%s\", \"reps\": %d, \"cpu_best_s\": %.6f, "
              "\"wall_median_s\": %.6f, \"ratio\": %.3f, "
              "\"ratio_per_log\": %.3f, \"units\": %.0f, "
              "\"interleaved\": %s},\n",
              (unsigned long long)bytes, c->pt->name, ph_names[ph],
              c->t[ph].cpu.reps, x->t, c->t[ph].wall.median, x->x, x->raw,
              ph_units(c, ph), interleave ? "true" : "false");
    }
    if (c->linear_read_s > 0)
      snprintf(lin, sizeof lin, "%.1f", c->linear_read_s * 1e6);
    else
      snprintf(lin, sizeof lin, "-");
    fprintf(tab,
            "%-7s %-17s %9s %5s %9s %5s %9s %5s %9s %5s %9s %5s %8s %5s %9s "
            "%7llu %9.1f %9llu\n",
            sz, c->pt->name, s[PH_SEARCH][0], s[PH_SEARCH][1], s[PH_PLAN][0],
            s[PH_PLAN][1], s[PH_REPLAY][0], s[PH_REPLAY][1],
            s[PH_REPLAY_NULL][0], s[PH_REPLAY_NULL][1], s[PH_BUILD][0],
            s[PH_BUILD][1], s[PH_READ][0], s[PH_READ][1], lin,
            (unsigned long long)c->writes, (double)c->bytes_written / MIB,
            (unsigned long long)c->descriptors);
  }
  fflush(tab);
}

static void ph_print_worst(const options *o, FILE *tab, const ph_worst *w) {
  size_t si;
  int ph;
  fprintf(tab, "\n== Phases: worst hostile ratio (target <= 3); [per log: "
               "the same time over the reference's, unnormalised] ==\n");
  size_columns(o, tab, "phase", 20, 36);
  fprintf(tab, "\n");
  for (ph = 0; ph < PH_COUNT; ph++) {
    fprintf(tab, "%-20s", ph_names[ph]);
    for (si = 0; si < o->nsizes; si++) {
      char cell[64];
      snprintf(cell, sizeof cell, "%.2f (%s) [%.2f]", w->x[si][ph],
               w->at[si][ph] != NULL ? w->at[si][ph]->name : "-",
               w->raw[si][ph]);
      fprintf(tab, " %36s", cell);
    }
    fprintf(tab, "\n");
  }
}

static void bench_phases(const options *o, FILE *tab) {
  ph_case *cases = xmalloc(sizeof(ph_case) * MAX_PATTERNS);
  ph_worst *worst = xmalloc(sizeof *worst);
  size_t si, pi;
  vtk_lp_log g;

  lp_log_init(&g);
  memset(worst, 0, sizeof *worst);

  fprintf(tab, "\n== Phases: best thread-CPU ms of N runs (read: us per "
               "4 KiB indexed read) ==\n");
  fprintf(tab,
          "x = time per unit / the reference's: search, plan per log, / "
          "cheapest benign; the others / b-full:\nreplay (memory file) per "
          "byte written, null (null backend) per log, build (overlay index) "
          "per descriptor, read per read;\nlinear = one vhdxlog_overlay_read "
          "of 4 KiB; writes = write + write_zeros calls; MiB = bytes "
          "written\n");
  fprintf(tab,
          "%-7s %-17s %9s %5s %9s %5s %9s %5s %9s %5s %9s %5s %8s %5s %9s "
          "%7s %9s %9s\n",
          "size", "pattern", "search", "x", "plan", "x", "replay", "x", "null",
          "x", "build", "x", "read", "x", "linear", "writes", "MiB", "descs");
  for (si = 0; si < o->nsizes; si++) {
    uint64_t bytes = (uint64_t)o->sizes_mib[si] * MIB;
    int reps = reps_for(o, bytes), interleave;
    const vtk_lp_pattern *pick[MAX_PATTERNS];
    size_t npick = pick_patterns(o, pick);
    char sz[32];

    fmt_size(sz, sizeof sz, bytes);
    interleave = ph_time_size(bytes, cases, pick, npick, &g, reps);
    ph_print_size(tab, sz, bytes, reps, interleave, cases, npick, si, worst);
    for (pi = 0; pi < npick; pi++)
      ph_free(&cases[pi]);
  }
  ph_print_worst(o, tab, worst);
  free(worst);
  free(cases);
}

/* ------------------------------------------------------------------------ */
/* Part 3: replay through the in-memory backend.                             */

static void bench_replay(const options *o, FILE *tab) {
  const size_t buffer_size = MIB;
  uint8_t *buffer = xmalloc(buffer_size);
  size_t ri;

  fprintf(tab, "\n== Replay: vhdxlog_load + vhdxlog_replay, in-memory "
               "backend, b-full log (whole log active) ==\n");
  fprintf(tab, "cold = first run (the log buffer vhdxlog_load allocates is "
               "fresh memory: page faults);\nwarm = best thread-CPU time of "
               "the N runs after it (memory reused); MB/s = active log bytes "
               "/ time\n");
  fprintf(tab, "%-7s %3s %9s %9s %9s %10s %9s %10s %11s %9s %7s\n", "log", "N",
          "cold ms", "load ms", "replay ms", "total ms", "MB/s", "MB/s cold",
          "MB/s replay", "wall med", "writes");
  fprintf(json, "  \"replay\": [\n");
  for (ri = 0; ri < o->nreplay; ri++) {
    uint32_t log_bytes = o->replay_mib[ri] * MIB;
    const uint64_t target_bytes = 64ull * MIB;
    int reps = reps_for(o, log_bytes), r;
    samples sload, sreplay, stotal;
    timing tl, tr, tt;
    double cold = 0;
    vtk_image_spec spec;
    vtk_image img;
    vtk_lp_log g;
    uint64_t writes = 0, seq_bytes = 0;
    char sz[32];

    /* Layout: headers | log at 1 MiB | BAT | metadata | 64 MiB written by
     * the log's descriptors. */
    vtk_image_spec_default(&spec);
    spec.log_offset = MIB;
    spec.log_length = log_bytes;
    spec.bat_offset = MIB + (uint64_t)log_bytes;
    spec.bat_length = MIB;
    spec.metadata_offset = spec.bat_offset + MIB;
    spec.metadata_length = MIB;
    spec.file_size = spec.metadata_offset + MIB + target_bytes;
    spec.fill_seed = 0;
    vtk_guid(spec.log_guid, 0x106u);
    vtk_image_build(&img, &spec);

    memset(&g, 0, sizeof g);
    g.crc = vhdxlog_crc32c;
    g.n = log_bytes / SECTOR;
    g.log = xmalloc(log_bytes);
    g.starts = xmalloc(sizeof(uint32_t) * (size_t)(g.n + 1));
    memcpy(g.guid, spec.log_guid, 16);
    g.target_base = spec.metadata_offset + MIB;
    g.target_sectors = (uint32_t)(target_bytes / SECTOR);
    g.flushed = spec.file_size; /* multiple of 1 MiB, <= file size */
    g.last = spec.file_size;
    vtk_lp_generate(&g, &vtk_lp_patterns[0]); /* b-full */
    vtk_image_put_log(&img, g.log, log_bytes, spec.log_guid);
    free(g.log);
    free(g.starts);

    sload.n = sreplay.n = stotal.n = 0;
    for (r = -1; r < reps; r++) { /* r == -1: the cold run */
      vtk_mem_file f;
      vhdxlog_io io;
      vhdxlog_loaded *l = xmalloc(sizeof *l); /* must not move: plan */
      vhdxlog_replay_result res;
      vhdxlog_error err;
      vhdxlog_status st;
      stopwatch w0, w1;
      double c0;

      if (vtk_mem_open(&f, img.data, (size_t)img.size, UINT64_MAX) != 0)
        die("vtk_mem_open");
      vtk_mem_io(&f, &io);
      c0 = cpu_s();
      w0 = sw_start();
      st = vhdxlog_load(&io, l, &err);
      if (r >= 0)
        w1 = sw_lap(&sload, w0);
      else
        w1 = sw_start();
      if (st != VHDXLOG_OK || !l->plan_ready) {
        fprintf(stderr, "vhdxlog_load: %s (cause %s at %llu)\n",
                vhdxlog_status_name(st), vhdxlog_status_name(err.cause),
                (unsigned long long)err.offset);
        exit(3);
      }
      st = vhdxlog_replay(&l->plan, &io, buffer, buffer_size, &res, &err);
      if (r >= 0) {
        sw_lap(&sreplay, w1);
        sw_lap(&stotal, w0);
      } else {
        cold = cpu_s() - c0;
      }
      if (st != VHDXLOG_OK || !res.replayed) {
        fprintf(stderr, "vhdxlog_replay: %s\n", vhdxlog_status_name(st));
        exit(3);
      }
      if (l->plan.seq.entry_count != g.expect_entries)
        die("replay: unexpected active sequence");
      seq_bytes = l->plan.seq.length;
      writes = res.writes;
      vhdxlog_loaded_free(l);
      free(l);
      vtk_mem_close(&f);
    }
    tl = summarize_samples(&sload);
    tr = summarize_samples(&sreplay);
    tt = summarize_samples(&stotal);
    fmt_size(sz, sizeof sz, log_bytes);
    fprintf(tab,
            "%-7s %3d %9.1f %9.1f %9.1f %10.1f %9.1f %10.1f %11.1f %9.1f "
            "%7llu\n",
            sz, reps, cold * 1e3, tl.cpu.best * 1e3, tr.cpu.best * 1e3,
            tt.cpu.best * 1e3, (double)seq_bytes / tt.cpu.best / 1e6,
            (double)seq_bytes / cold / 1e6,
            (double)seq_bytes / tr.cpu.best / 1e6, tt.wall.median * 1e3,
            (unsigned long long)writes);
    fprintf(json,
            "    {\"log_bytes\": %u, \"replayed_bytes\": %llu, \"reps\": %d, "
            "\"cold_cpu_s\": %.6f, \"load_cpu_best_s\": %.6f, "
            "\"replay_cpu_best_s\": %.6f, \"total_cpu_best_s\": %.6f, "
            "\"total_wall_median_s\": %.6f, \"mbps_total\": %.1f, "
            "\"mbps_cold\": %.1f, \"mbps_replay\": %.1f, "
            "\"writes\": %llu}%s\n",
            log_bytes, (unsigned long long)seq_bytes, reps, cold, tl.cpu.best,
            tr.cpu.best, tt.cpu.best, tt.wall.median,
            (double)seq_bytes / tt.cpu.best / 1e6,
            (double)seq_bytes / cold / 1e6,
            (double)seq_bytes / tr.cpu.best / 1e6, (unsigned long long)writes,
            ri + 1 < o->nreplay ? "," : "");
    fflush(tab);
    vtk_image_free(&img);
  }
  fprintf(json, "  ],\n");
  free(buffer);
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv) {
  options o;
  FILE *tab;
  char cpu[256], *json_text = NULL;
  size_t json_len = 0;
  double fault_us;
  int reuse;

  parse_options(argc, argv, &o);
  tab = o.json ? stderr : stdout;
  json = open_memstream(&json_text, &json_len);
  if (json == NULL)
    die("out of memory");
  cpu_model(cpu, sizeof cpu);
  fault_us = first_touch_us_per_page();
  reuse = keep_freed_memory();
  fprintf(tab, "vhdxlog %s benchmark; CPU: %s; hardware CRC: %s\n",
          VHDXLOG_VERSION_STRING, cpu,
          vhdxlog_crc32c_hw_available() ? "yes" : "no");
  fprintf(tab,
          "first touch of fresh memory: %.2f us per 4 KiB page (thread "
          "CPU); freed memory reused: %s\n",
          fault_us, reuse ? "yes" : "no");
  fprintf(json,
          "{\n  \"version\": \"%s\",\n  \"cpu\": \"%s\",\n"
          "  \"hw_crc\": %s,\n  \"first_touch_us_per_page\": %.3f,\n",
          VHDXLOG_VERSION_STRING, cpu,
          vhdxlog_crc32c_hw_available() ? "true" : "false", fault_us);
  if (o.crc)
    bench_crc(&o, tab);
  if (o.search)
    bench_search(&o, tab);
  if (o.phases) {
    fprintf(json, "  \"phases\": [\n");
    bench_phases(&o, tab);
    fprintf(json, "    {\"end\": true}\n  ],\n");
  }
  if (o.replay)
    bench_replay(&o, tab);
  fprintf(json, "  \"done\": true\n}\n");
  if (fclose(json) != 0)
    die("out of memory");
  if (o.json)
    fputs(json_text, stdout);
  free(json_text);
  return 0;
}
