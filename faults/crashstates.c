/* SPDX-License-Identifier: MIT */
/*
 * crashstates: rebuilds the images a power cut could leave while
 * `vhdxlog replay IMG` ran, from the trace the fault shim recorded (see
 * trace_format.h), and checks each one with the real CLI.
 *
 * Cache model: a write is durable once an fsync/fdatasync of the image
 * followed it; writes since the last barrier sit in a volatile cache and
 * reach the disk in 512-byte pieces, any subset, in any order (fallocate
 * ranges in 4 KiB file-system blocks, ftruncate as one piece). A cut point
 * is "before traced call N" (a write or a barrier), N = 0..calls (N = calls:
 * the process ended; what follows its last barrier is not durable either).
 *
 * For every cut: no piece, all pieces, each piece alone, each piece missing
 * (capped by -c: when the window holds more pieces, a seeded sample of that
 * many, always including the first and last piece of the newest call), and
 * -r seeded random subsets applied in issue order plus -r applied shuffled.
 * Identical states are checked once. Each state must pass:
 *   `vhdxlog check` exits 0 or 1 (never 2: corrupt, nor 3),
 *   `vhdxlog replay` exits 0 and leaves exactly EXPECTED,
 *   with -q: `qemu-img check -r all` on a copy exits 0.
 * A failing state is saved as WORKDIR/fail-<cut>-<what>.img.
 *
 * usage: crashstates [-c CAP] [-r N] [-s SEED] [-q] VHDXLOG ORIG TRACE
 *                    EXPECTED WORKDIR
 * Exit 0 all states pass, 1 a state failed, 2 usage or setup error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "trace_format.h"

#define PIECE 512u
#define BLOCK 4096u
#define ZERO_RANGE 0x10 /* FALLOC_FL_ZERO_RANGE */
#define PUNCH_HOLE 0x02 /* FALLOC_FL_PUNCH_HOLE */
#define KEEP_SIZE 0x01  /* FALLOC_FL_KEEP_SIZE */

typedef struct op {
  uint8_t kind;
  uint32_t mode;
  uint64_t a, b;
  const uint8_t *data; /* FT_WRITE: into the trace buffer */
} op;

/* One piece of a call in the volatile window. */
typedef struct piece {
  const op *o;
  uint64_t off, len; /* FT_TRUNCATE: off is the size */
} piece;

static struct {
  const char *vhdxlog, *workdir;
  int qemu;
  size_t cap, randoms;
  uint64_t seed;
  uint8_t *expected;
  uint64_t expected_size;
  uint8_t *state, *disk; /* the state built; what the work file holds */
  uint64_t state_size, disk_size, capacity;
  char work[4096], qwork[4096], log[4096];
  uint64_t *seen;
  size_t nseen, seen_cap;
  unsigned long built, checked, failed;
} G;

static void die(const char *what) {
  fprintf(stderr, "crashstates: %s: %s\n", what, strerror(errno));
  exit(2);
}

static uint8_t *slurp(const char *path, uint64_t *size) {
  struct stat st;
  uint8_t *p;
  ssize_t n;
  uint64_t got = 0;
  int fd = open(path, O_RDONLY);
  if (fd < 0 || fstat(fd, &st) != 0)
    die(path);
  p = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
  if (p == NULL)
    die("malloc");
  while (got < (uint64_t)st.st_size) {
    n = pread(fd, p + got, (size_t)((uint64_t)st.st_size - got), (off_t)got);
    if (n <= 0)
      die(path);
    got += (uint64_t)n;
  }
  close(fd);
  *size = got;
  return p;
}

static uint64_t rng(uint64_t *s) { /* xorshift64* */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

/* ---- building states -------------------------------------------------- */

static void grow(uint8_t *buf, uint64_t *size, uint64_t to) {
  if (to > G.capacity) {
    fprintf(stderr, "crashstates: trace grows past its own bound\n");
    exit(2);
  }
  if (to > *size)
    memset(buf + *size, 0, (size_t)(to - *size));
  *size = to;
}

static void apply_piece(uint8_t *buf, uint64_t *size, const piece *p) {
  const op *o = p->o;
  if (o->kind == FT_TRUNCATE) {
    if (p->off > *size)
      grow(buf, size, p->off);
    *size = p->off;
  } else if (o->kind == FT_WRITE) {
    if (p->off + p->len > *size)
      grow(buf, size, p->off + p->len);
    memcpy(buf + p->off, o->data + (p->off - o->a), (size_t)p->len);
  } else if (o->kind == FT_FALLOCATE) {
    uint64_t end = p->off + p->len;
    if (!(o->mode & KEEP_SIZE) && end > *size)
      grow(buf, size, end);
    if (o->mode & (ZERO_RANGE | PUNCH_HOLE)) {
      if (end > *size)
        end = *size;
      if (p->off < end)
        memset(buf + p->off, 0, (size_t)(end - p->off));
    }
  }
}

/* Cut a call into pieces, appended to OUT unless it is NULL; returns how
 * many there are. */
static size_t split(const op *o, piece *out) {
  uint64_t unit = o->kind == FT_WRITE ? PIECE : BLOCK;
  /* A truncate is one piece, of length 0, at the new size. */
  uint64_t pos = o->a, end = o->kind == FT_TRUNCATE ? o->a + 1 : o->a + o->b;
  size_t n = 0;
  while (pos < end) {
    uint64_t next = (pos / unit + 1) * unit;
    if (next > end)
      next = end;
    if (out != NULL) {
      out[n].o = o;
      out[n].off = pos;
      out[n].len = o->kind == FT_TRUNCATE ? 0 : next - pos;
    }
    n++;
    pos = next;
  }
  return n;
}

/* ---- checking states ---------------------------------------------------- */

static uint64_t hash_state(void) {
  uint64_t h = G.state_size * 0x9E3779B97F4A7C15ull, w;
  uint64_t i;
  for (i = 0; i + 8 <= G.state_size; i += 8) {
    memcpy(&w, G.state + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 29;
  }
  for (; i < G.state_size; i++)
    h = (h ^ G.state[i]) * 0x100000001B3ull;
  return h;
}

static int seen_before(uint64_t h) {
  size_t i;
  for (i = 0; i < G.nseen; i++)
    if (G.seen[i] == h)
      return 1;
  if (G.nseen == G.seen_cap) {
    G.seen_cap = G.seen_cap ? 2 * G.seen_cap : 1024;
    G.seen = realloc(G.seen, G.seen_cap * sizeof *G.seen);
    if (G.seen == NULL)
      die("malloc");
  }
  G.seen[G.nseen++] = h;
  return 0;
}

static void write_file(const char *path, const uint8_t *buf, uint64_t size,
                       const uint8_t *old, uint64_t old_size) {
  const uint64_t chunk = 65536;
  uint64_t pos;
  int fd = open(path, O_WRONLY | O_CREAT, 0644);
  if (fd < 0)
    die(path);
  for (pos = 0; pos < size; pos += chunk) {
    uint64_t n = size - pos < chunk ? size - pos : chunk;
    if (old != NULL && pos + n <= old_size &&
        memcmp(buf + pos, old + pos, (size_t)n) == 0)
      continue; /* the work file already holds these bytes */
    if (pwrite(fd, buf + pos, (size_t)n, (off_t)pos) != (ssize_t)n)
      die(path);
  }
  if (ftruncate(fd, (off_t)size) != 0 || close(fd) != 0)
    die(path);
}

/* Run argv with stdout and stderr to G.log; its exit code, or -1. */
static int run(char *const argv[]) {
  posix_spawn_file_actions_t fa;
  int status;
  pid_t pid = -1;
  /* posix_spawn, not fork: this process holds several image-sized buffers
   * that a fork would have to map again for every state. */
  if (posix_spawn_file_actions_init(&fa) != 0 ||
      posix_spawn_file_actions_addopen(&fa, 1, G.log,
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644) ||
      posix_spawn_file_actions_adddup2(&fa, 1, 2) ||
      posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
    die("posix_spawn");
  posix_spawn_file_actions_destroy(&fa);
  if (waitpid(pid, &status, 0) < 0)
    die("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Saves the state and reports why (printf's FMT and arguments). */
__attribute__((format(printf, 3, 4))) static void
fail(int cut, const char *what, const char *fmt, ...) {
  char path[4200], why[128];
  va_list ap;
  G.failed++;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(path, sizeof path, "%s/fail-%d-%s.img", G.workdir, cut, what);
  write_file(path, G.state, G.state_size, NULL, 0);
  fprintf(stderr, "FAIL cut %d %s: %s (state saved as %s; output in %s)\n", cut,
          what, why, path, G.log);
  if (G.failed >= 20) {
    fprintf(stderr, "crashstates: stopping after 20 failures\n");
    exit(1);
  }
}

static void check_state(int cut, const char *what) {
  char *check[] = {(char *)G.vhdxlog, "check", G.work, NULL};
  char *replay[] = {(char *)G.vhdxlog, "replay", G.work, NULL};
  char *qemu[] = {"qemu-img", "check", "-q", "-r", "all", G.qwork, NULL};
  uint8_t *got;
  uint64_t got_size;
  int rc;

  G.built++;
  if (seen_before(hash_state()))
    return;
  G.checked++;
  write_file(G.work, G.state, G.state_size, G.disk, G.disk_size);
  /* The work file changes from here on: compare chunks against nothing. */
  G.disk_size = 0;
  rc = run(check);
  if (rc != 0 && rc != 1) {
    fail(cut, what, "vhdxlog check exited %d", rc);
    return;
  }
  rc = run(replay);
  if (rc != 0) {
    fail(cut, what, "vhdxlog replay exited %d", rc);
    return;
  }
  got = slurp(G.work, &got_size);
  if (got_size != G.expected_size ||
      memcmp(got, G.expected, (size_t)got_size) != 0) {
    free(got);
    fail(cut, what, "re-run replay differs from the uninterrupted replay");
    return;
  }
  free(got);
  /* The work file now holds EXPECTED: the next state writes its diff. */
  memcpy(G.disk, G.expected, (size_t)G.expected_size);
  G.disk_size = G.expected_size;
  if (G.qemu) {
    write_file(G.qwork, G.state, G.state_size, NULL, 0);
    rc = run(qemu);
    if (rc != 0)
      fail(cut, what, "qemu-img check -r all exited %d", rc);
  }
}

/* ---- subsets ------------------------------------------------------------ */

static const uint8_t *base;
static uint64_t base_size;

static void start_state(void) {
  memcpy(G.state, base, (size_t)base_size);
  G.state_size = base_size;
}

static void apply_list(const piece *p, const size_t *idx, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    apply_piece(G.state, &G.state_size, &p[idx[i]]);
}

/* The pieces whose "alone" and "missing" states are checked at a cut. */
static size_t choose(const piece *p, size_t n, size_t *out, uint64_t *seed) {
  size_t i, k = 0, newest = n;
  uint8_t *pick;
  if (G.cap == 0 || n <= G.cap) {
    for (i = 0; i < n; i++)
      out[i] = i;
    return n;
  }
  pick = calloc(n, 1);
  if (pick == NULL)
    die("malloc");
  while (newest > 0 && p[newest - 1].o == p[n - 1].o)
    newest--;
  pick[newest] = pick[n - 1] = 1;
  k = newest == n - 1 ? 1 : 2;
  while (k < G.cap) {
    i = (size_t)(rng(seed) % n);
    if (!pick[i]) {
      pick[i] = 1;
      k++;
    }
  }
  for (i = 0, k = 0; i < n; i++)
    if (pick[i])
      out[k++] = i;
  free(pick);
  return k;
}

static void check_cut(int cut, const piece *p, size_t n) {
  size_t *idx = malloc((n + 1) * sizeof *idx),
         *sel = malloc((n + 1) * sizeof *sel);
  size_t i, j, k, nsel, m;
  uint64_t seed = G.seed ^ ((uint64_t)cut * 0x9E3779B97F4A7C15ull) ^ 1;
  char what[64];
  if (idx == NULL || sel == NULL)
    die("malloc");
  for (i = 0; i < n; i++)
    idx[i] = i;
  start_state();
  check_state(cut, "none");
  if (n == 0)
    goto done;
  start_state();
  apply_list(p, idx, n);
  check_state(cut, "all");
  nsel = choose(p, n, sel, &seed);
  for (j = 0; j < nsel; j++) {
    start_state();
    apply_list(p, &sel[j], 1);
    snprintf(what, sizeof what, "only%zu", sel[j]);
    check_state(cut, what);
    start_state();
    for (i = 0; i < n; i++)
      if (i != sel[j])
        apply_piece(G.state, &G.state_size, &p[i]);
    snprintf(what, sizeof what, "without%zu", sel[j]);
    check_state(cut, what);
  }
  for (k = 0; k < 2 * G.randoms; k++) {
    for (i = 0, m = 0; i < n; i++)
      if (rng(&seed) & 1)
        idx[m++] = i;
    if (k >= G.randoms) /* the second half: in a shuffled order */
      for (i = m; i > 1; i--) {
        size_t r = (size_t)(rng(&seed) % i), t = idx[i - 1];
        idx[i - 1] = idx[r];
        idx[r] = t;
      }
    start_state();
    apply_list(p, idx, m);
    snprintf(what, sizeof what, "%s%zu", k < G.randoms ? "random" : "shuffled",
             k % G.randoms);
    check_state(cut, what);
  }
done:
  free(idx);
  free(sel);
}

/* ---- main --------------------------------------------------------------- */

static op *parse(const uint8_t *t, uint64_t size, size_t *count) {
  op *ops = NULL;
  size_t n = 0, cap = 0;
  uint64_t pos = 0;
  while (pos < size) {
    op o;
    if (size - pos < FT_RECORD)
      goto bad;
    memset(&o, 0, sizeof o);
    o.kind = t[pos];
    o.mode = (uint32_t)ft_get(t + pos + 4, 4);
    o.a = ft_get(t + pos + 8, 8);
    o.b = ft_get(t + pos + 16, 8);
    pos += FT_RECORD;
    if (o.a > ((uint64_t)1 << 40) || o.b > ((uint64_t)1 << 40))
      goto bad;
    if (o.kind == FT_WRITE) {
      if (size - pos < o.b)
        goto bad;
      o.data = t + pos;
      pos += o.b;
    } else if (o.kind != FT_BARRIER && o.kind != FT_TRUNCATE &&
               o.kind != FT_FALLOCATE) {
      goto bad;
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      ops = realloc(ops, cap * sizeof *ops);
      if (ops == NULL)
        die("malloc");
    }
    ops[n++] = o;
  }
  *count = n;
  return ops;
bad:
  fprintf(stderr, "crashstates: malformed trace at byte %llu\n",
          (unsigned long long)pos);
  exit(2);
}

int main(int argc, char **argv) {
  uint8_t *orig, *trace, *durable;
  uint64_t orig_size, trace_size, durable_size, end;
  op *ops;
  piece *win;
  size_t nops, i, j, nwin, maxpieces = 1, epoch;
  int opt, cut = 0;

  G.cap = 16;
  G.randoms = 4;
  G.seed = 1;
  while ((opt = getopt(argc, argv, "c:r:s:q")) != -1) {
    if (opt == 'c')
      G.cap = (size_t)strtoul(optarg, NULL, 10);
    else if (opt == 'r')
      G.randoms = (size_t)strtoul(optarg, NULL, 10);
    else if (opt == 's')
      G.seed = strtoull(optarg, NULL, 10) | 1;
    else if (opt == 'q')
      G.qemu = 1;
    else
      return 2;
  }
  if (argc - optind != 5) {
    fprintf(stderr, "usage: crashstates [-c CAP] [-r N] [-s SEED] [-q] "
                    "VHDXLOG ORIG TRACE EXPECTED WORKDIR\n");
    return 2;
  }
  G.vhdxlog = argv[optind];
  G.workdir = argv[optind + 4];
  snprintf(G.work, sizeof G.work, "%s/state.img", G.workdir);
  snprintf(G.qwork, sizeof G.qwork, "%s/state-qemu.img", G.workdir);
  snprintf(G.log, sizeof G.log, "%s/last-output.txt", G.workdir);
  orig = slurp(argv[optind + 1], &orig_size);
  trace = slurp(argv[optind + 2], &trace_size);
  G.expected = slurp(argv[optind + 3], &G.expected_size);
  ops = parse(trace, trace_size, &nops);
  if (nops == 0) { /* every replay writes: the shim missed the image */
    fprintf(stderr, "crashstates: the trace is empty\n");
    return 2;
  }

  /* Largest size any state can reach, and the largest window. */
  G.capacity = orig_size > G.expected_size ? orig_size : G.expected_size;
  for (i = 0, epoch = 0; i < nops; i++) {
    end = ops[i].kind == FT_TRUNCATE ? ops[i].a : ops[i].a + ops[i].b;
    if (end > G.capacity)
      G.capacity = end;
    if (ops[i].kind == FT_BARRIER)
      epoch = 0;
    else
      epoch += split(&ops[i], NULL);
    if (epoch + 1 > maxpieces)
      maxpieces = epoch + 1;
  }
  G.state = malloc((size_t)G.capacity);
  G.disk = malloc((size_t)G.capacity);
  durable = malloc((size_t)G.capacity);
  win = malloc(maxpieces * sizeof *win);
  if (G.state == NULL || G.disk == NULL || durable == NULL || win == NULL)
    die("malloc");
  memcpy(durable, orig, (size_t)orig_size);
  durable_size = orig_size;
  G.disk_size = 0;
  base = durable;

  /* Walk the calls and cut before each one and at the end: before a
   * barrier too, since the power may fail while the fsync runs, with the
   * writes before it still in the cache. */
  nwin = 0;
  for (i = 0; i <= nops; i++) {
    base_size = durable_size;
    check_cut(cut++, win, nwin);
    if (i == nops)
      break;
    if (ops[i].kind == FT_BARRIER) {
      for (j = 0; j < nwin; j++)
        apply_piece(durable, &durable_size, &win[j]);
      nwin = 0;
    } else {
      nwin += split(&ops[i], win + nwin);
    }
  }
  printf("crashstates: %zu calls traced, %d cut points, %lu states built, "
         "%lu distinct checked, %lu failed\n",
         nops, cut, G.built, G.checked, G.failed);
  return G.failed ? 1 : 0;
}
