#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Power-cut test: cut a real qemu-io off before each of its writes to a VHDX
image, then judge the image it leaves.

Usage: powercut_test.py [-w NAME[,NAME...]] [-k] [-q] VHDXLOG SHIM
  VHDXLOG  the vhdxlog binary (or $VHDXLOG); SHIM  libvhdxlog_shim.so
  (or $VHDXLOG_POWERCUT_SHIM); -w / $WORKLOADS: run only these workloads;
  -k / KEEP=1: keep the scratch directory (failing images are copied there);
  -q: print only the failing images' lines (default: one line per image),
  then the table.

For each workload W (a qemu-io command list on an image made by qemu-img
create): run W once uncut under the shim to learn its count K of writes to
the image, then for every N in 0..K-1 copy the pristine image, run W with the
shim killing qemu-io (SIGKILL) in front of write N, and check:
  1. `vhdxlog check --json` gives the verdict the image's state calls for,
     where the state comes from vhdx_inspect.py (an independent reader):
     clean (LogGuid 0) -> exit 0 (or 1 "complete-clear" when the other
     header still carries a LogGuid), replay (an entry of the LogGuid is
     valid) -> 1 "replay", armed (LogGuid set, no valid entry) -> 1
     "clear-armed". Exit 2 is always a failure. With --strict (when the CLI
     has it) an armed log must give 2, other states the default verdict.
  2. copy B: `vhdxlog replay` exits 0; copy A: `qemu-img check -r all`; A
     and B are byte-identical apart from the two headers (vhdx_compare.py).
  3. B's current header has LogGuid 0 (independent reader), and `vhdxlog
     check` on B exits 0.
  4. qemu-io writes a new block into B and reads it back, and `qemu-img
     check` of B is clean. The same on A (the first A of each state in a
     workload) is recorded as an observation only (QEMU leaves armed logs
     armed, so its allocating writes then fail).
The committed samples/qemu-armed-8M.vhdx is judged the same way (workload
"sample"; it must be armed).
Exit status: 0 all passed, 1 a failure, 2 usage, 77 qemu-img/qemu-io missing.
"""
import contextlib
import getopt
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
QEMU_DIR = os.path.dirname(HERE)
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
KILLED = -9  # subprocess returncode of a SIGKILLed child


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(QEMU_DIR, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


vi = load("vhdx_inspect")
vc = load("vhdx_compare")

G, M = 1 << 30, 1 << 20
# name, qemu-img create options, virtual size, qemu-io commands, and a block
# no command touches (the post-replay write allocates it).
WORKLOADS = [
    ("basic", "log_size=1M,block_size=1M", "64M",
     ["write -P 0x11 0 64k", "write -P 0x22 3584k 2560k"], 60 * M),
    ("log256M", "log_size=256M,block_size=1M", "1G",
     ["write -P 0x33 100M 64k"], 900 * M),
    ("block32M", "log_size=1M,block_size=32M", "256M",
     ["write -P 0x44 31M 2M"], 192 * M),
    ("block256M", "log_size=1M,block_size=256M", "1G",
     ["write -P 0x55 300M 64k"], 768 * M),
    ("fixed", "subformat=fixed,log_size=1M,block_size=1M", "64M",
     ["write -z 0 64k", "write -P 0x66 1M 64k", "discard 1M 64k"], 60 * M),
    ("zero-discard", "log_size=1M,block_size=1M", "64M",
     ["write -z 0 2M", "discard 0 1M", "discard 5M 1M"], 60 * M),
    ("over4G", "log_size=1M,block_size=1M", "6G",
     ["write -P 0x99 %d 1M" % (5 * G + 512 * 1024)], 6 * G - M),
]
# Judged like a cut image: a log QEMU armed and never wrote (samples/README.md).
SAMPLE = os.path.join(os.path.dirname(QEMU_DIR), "samples", "qemu-armed-8M.vhdx")
STATES = ["clean", "replay", "clear-armed", "complete-clear", "corrupt"]


SPENT = {}  # "tool subcommand" -> [calls, seconds]: where the time goes


def run(cmd, env=None):
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=env, universal_newlines=True)
    key = os.path.basename(cmd[0]) + " " + (cmd[1] if cmd[1] != "-f" else "")
    if env is not None and "VHDXLOG_POWERCUT_FILE" in env:
        key = "qemu-io (workload)"
    acc = SPENT.setdefault(key.strip(), [0, 0.0])
    acc[0] += 1
    acc[1] += time.time() - t0
    return p.returncode, p.stdout


def sparse_copy(src, dst):
    subprocess.run(["cp", "--sparse=always", "--", src, dst], check=True)


class SparseLog:
    """The log region read on demand: parse_entry() slices it like bytes.
    A 256 MiB log is mostly holes; reading it whole costs seconds per image."""

    def __init__(self, fd, offset, length):
        self.fd, self.offset, self.length = fd, offset, length

    def __len__(self):
        return self.length

    def __getitem__(self, sl):
        lo, hi = sl.start, min(sl.stop, self.length)
        return os.pread(self.fd, max(hi - lo, 0), self.offset + lo)


def inspect_state(path):
    """(state, other header armed) from the headers and log as
    vhdx_inspect.py parses them: clean (LogGuid 0), replay (an entry of
    the LogGuid is valid: QEMU's logs hold one-entry sequences) or armed."""
    with open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        h, cur = vi.read_headers(f)
        if cur is None:
            return "no-header", False
        if h[cur]["log_guid"] == ZERO_GUID:
            other = h[1 - cur]
            return "clean", other["valid"] and other["log_guid"] != ZERO_GUID
        lo, ln = h[cur]["log_offset"], h[cur]["log_length"]
        if ln == 0 or lo + ln > size:
            return "armed", False
        log = SparseLog(fd, lo, ln)
        for start, end in vi.data_extents(fd, size):
            s, e = max(start, lo), min(end, lo + ln)
            first = (s - lo + 4095) // 4096 * 4096
            for off in range(first, e - lo, 4096):
                if log[off:off + 4] == b"loge":
                    ent = vi.parse_entry(log, off, h[cur]["log_guid_raw"])
                    if ent and ent["guid_matches"] and ent.get("valid"):
                        return "replay", False
        return "armed", False


def same_outside_headers(a, b):
    """Equal sizes and equal bytes outside vhdx_compare.SKIP (the headers)."""
    fa, fb = os.open(a, os.O_RDONLY), os.open(b, os.O_RDONLY)
    try:
        size = os.fstat(fa).st_size
        if os.fstat(fb).st_size != size:
            return False
        ranges = sorted(vi.data_extents(fa, size) + vi.data_extents(fb, size))
        done = 0  # everything below has been compared
        for start, end in ranges:
            off = max(start, done)
            while off < end:
                n = min(vc.CHUNK, end - off)
                if vc.masked(os.pread(fa, n, off), off) != vc.masked(os.pread(fb, n, off), off):
                    return False
                off += n
            done = max(done, end)
        return True
    finally:
        os.close(fa)
        os.close(fb)


def tool_state(rc, text):
    """vhdxlog check's verdict as one of STATES (or 'error ...')."""
    try:
        js = json.loads(text[text.index("{"):])
    except ValueError:
        js = {}
    action = js.get("action")
    if rc == 2:
        err = js.get("error") or {}
        return "corrupt", err.get("status") or err.get("name") or "?"
    if rc == 0:
        return ("clean" if action in (None, "none") else "exit0-with-" + action), None
    if rc == 1:
        if action is not None:
            return {"replay": "replay", "clear-armed": "clear-armed",
                    "complete-clear": "complete-clear"}.get(action, "action-" + action), None
        if js.get("replay_needed"):
            return "replay", None
        if js.get("header_repair_needed"):
            return "complete-clear", None
        return "dirty-unknown", None
    return "error", "exit %d" % rc


def region_of(line, regions):
    """Which part of the file the cut write was aimed at (for the report)."""
    parts = line.split()
    func = parts[1]
    off = int(parts[2].split("=")[1])
    if "truncate" in func:
        return "truncate"
    if off < 0:
        return "?"
    for name, lo, hi in regions:
        if lo <= off < hi:
            return name
    return "data"


def file_regions(path):
    r = vi.inspect(path)
    h = r["headers"][r["current"]]
    out = [("header1", 64 * 1024, 128 * 1024), ("header2", 128 * 1024, 192 * 1024),
           ("log", h["log_offset"], h["log_offset"] + h["log_length"])]
    for k, v in (r["regions"] or {}).items():
        out.append((k, v["offset"], v["offset"] + v["length"]))
    return out


class Suite:
    def __init__(self, vhdxlog, shim, work, verbose):
        self.vhdxlog, self.shim, self.work, self.verbose = vhdxlog, shim, work, verbose
        self.keep_failures = False
        self.strict = None  # does the CLI know `check --strict`?
        self.failures = []
        self.rows = []

    def counted_lines(self, log):
        if not os.path.exists(log):  # the shim did not load, or saw no write
            return []
        with open(log) as f:
            return [l for l in f if l[0].isdigit() or l.startswith("CUT ")]

    def new_block_ok(self, path, off):
        """Write and read back a new block with QEMU, then qemu-img check.
        Returns None if fine, else what went wrong."""
        rc, out = run(["qemu-io", "-f", "vhdx", "-c", "write -P 0x5a %d 64k" % off,
                       "-c", "read -P 0x5a %d 64k" % off, path])
        if rc != 0 or "failed" in out or "verification" in out:
            msg = [l for l in out.splitlines() if "fail" in l.lower() or "error" in l.lower()]
            return "qemu-io write/read of a new block: rc %d %s" % (rc, (msg or [""])[0])
        rc, out = run(["qemu-img", "check", "-f", "vhdx", path])
        if rc != 0 or "No errors were found" not in out:
            return "qemu-img check: rc %d %s" % (rc, out.strip().splitlines()[-1:] or "")
        return None

    def compare(self, a, b):
        """vhdx_compare.py's verdict on A and B. Reading two mostly sparse
        files whole costs seconds, so identical files are first recognised
        by comparing only their data extents (holes read as zeros in both);
        any difference goes to vhdx_compare.py for the verdict and report."""
        if same_outside_headers(a, b):
            return 0, ""
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = vc.main([a, b])
        return rc, buf.getvalue()

    def run_workload(self, stem, pristine, cmds, cut_at):
        """qemu-io runs CMDS on a fresh copy of PRISTINE (STEM.vhdx), with the
        shim cutting it before write CUT_AT (None: count only, in STEM.log)."""
        img, log = os.path.join(self.work, stem + ".vhdx"), os.path.join(self.work, stem + ".log")
        for p in (img, log):
            if os.path.exists(p):
                os.unlink(p)
        sparse_copy(pristine, img)
        env = dict(os.environ, LD_PRELOAD=self.shim, VHDXLOG_POWERCUT_FILE=img,
                   VHDXLOG_POWERCUT_LOG=log, VHDXLOG_POWERCUT_AT=str(cut_at))
        if cut_at is None:
            del env["VHDXLOG_POWERCUT_AT"]
        rc, out = run(["qemu-io", "-f", "vhdx"] + [x for c in cmds for x in ("-c", c)] + [img],
                      env=env)
        return img, log, rc, out

    def judge(self, name, n, k, pristine, cmds, newblock, regions, obs):
        img, log, rc, out = self.run_workload("cut", pristine, cmds, n)
        cut = [l for l in self.counted_lines(log) if l.startswith("CUT ")]
        problems = []
        if rc != KILLED or not cut:
            problems.append("qemu-io was not cut at write %d (rc %d): the write count changed" % (n, rc))
            where = "?"
        else:
            c = cut[0].split()[1:]
            where = "cut before %s %s %s [%s]" % (c[1], c[2], c[3], region_of(" ".join(c), regions))
        return self.evaluate(name, n, k, img, where, problems, newblock, obs)

    def evaluate(self, name, n, k, img, where, problems, newblock, obs):
        """Checks 1-4 on img (left untouched); returns the state to count."""
        a, b = os.path.join(self.work, "a.vhdx"), os.path.join(self.work, "b.vhdx")
        istate, other_armed = inspect_state(img)
        crc, cout = run([self.vhdxlog, "check", "--json", img])
        state, detail = tool_state(crc, cout)
        expect = {"clean": ("clean",) + (("complete-clear",) if other_armed else ()),
                  "replay": ("replay",), "armed": ("clear-armed",)}.get(istate, ())
        if state not in expect:
            problems.append("vhdxlog check exit %d = %s%s, expected %s (inspect: %s)" % (
                crc, state, " (%s)" % detail if detail else "", "/".join(expect) or "?", istate))
        if self.strict:
            src, _ = run([self.vhdxlog, "check", "--strict", img])
            want = 2 if istate == "armed" else crc
            if src != want:
                problems.append("vhdxlog check --strict exit %d, expected %d" % (src, want))

        sparse_copy(img, a)
        sparse_copy(img, b)
        qrc, qout = run(["qemu-img", "check", "-r", "all", "-f", "vhdx", a])
        if qrc != 0:
            obs.setdefault("qemu-img check -r all exit %d" % qrc, []).append(n)
        rrc, rout = run([self.vhdxlog, "replay", b])
        if rrc != 0:
            problems.append("vhdxlog replay exit %d: %s" % (rrc, rout.strip().splitlines()[-1:]))
        else:
            mrc, mout = self.compare(a, b)
            if mrc != 0:
                problems.append("ours != qemu's outside the headers: %s" % " / ".join(
                    l for l in mout.splitlines() if "DIFFER" in l or "offset" in l))
            if inspect_state(b)[0] != "clean":
                problems.append("LogGuid still set in the current header after our replay")
            arc, aout = run([self.vhdxlog, "check", b])
            if arc != 0:
                problems.append("vhdxlog check after our replay exit %d" % arc)
            bad = self.new_block_ok(b, newblock)
            if bad:
                problems.append("our copy: " + bad)
        # QEMU on its own repaired copy is an observation, not our result:
        # tried on the first copy of each state per workload (each try costs
        # two QEMU runs, and on a still-armed 256 MiB log two log scans).
        # QEMU's repair leaves an armed log armed; its allocating writes
        # then fail.
        a_state = inspect_state(a)[0]
        if a_state != "clean":
            obs.setdefault("qemu-img check -r all left the log armed (LogGuid set)", []).append(n)
        tried = obs.setdefault("", set())  # states of A already tried
        if a_state not in tried:
            tried.add(a_state)
            bad = self.new_block_ok(a, newblock)
            obs.setdefault("qemu's copy (%s after qemu-img check -r all): %s" % (
                a_state, bad or "new block written, read back, qemu-img check clean"), []).append(n)
        # The image's line; a failure is recorded.
        line = "%-12s N=%3d/%d %-57s state=%-14s check=%d" % (
            name, n, k, where, state, crc)
        if problems:
            line += "  FAIL: " + "; ".join(problems)
            self.failures.append((name, n, problems))
            if self.keep_failures:
                sparse_copy(img, os.path.join(self.work, "fail-%s-%d.vhdx" % (name, n)))
        else:
            line += "  ok"
        if self.verbose or problems:
            print(line, flush=True)
        return state if state in STATES else "other"

    def probe_strict(self, clean_image):
        """Find out once whether the CLI has `check --strict`."""
        if self.strict is None:
            src, _ = run([self.vhdxlog, "check", "--strict", clean_image])
            self.strict = src == 0
            print("vhdxlog check --strict: %s" % ("supported" if self.strict else
                  "not supported by this build (exit %d): not checked" % src))

    def sample(self, path, newblock):
        """The committed armed sample, judged like a cut image."""
        t0 = time.time()
        img = os.path.join(self.work, "cut.vhdx")
        sparse_copy(path, img)
        if self.strict is None:
            clean = os.path.join(self.work, "pristine.vhdx")
            run(["qemu-img", "create", "-q", "-f", "vhdx", clean, "8M"])
            self.probe_strict(clean)
        print("== sample: %s" % path, flush=True)
        problems = []
        if inspect_state(img)[0] != "armed":
            problems.append("the sample is not armed (LogGuid set, no valid entry)")
        counts = dict((s, 0) for s in STATES + ["other"])
        obs = {}
        nfail = len(self.failures)
        counts[self.evaluate("sample", 0, 1, img, "samples/" + os.path.basename(path),
                             problems, newblock, obs)] += 1
        for o, ns in obs.items():
            if o:
                print("   observation: %s" % o)
        self.rows.append(("sample", 1, counts, len(self.failures) - nfail, time.time() - t0))

    def workload(self, name, opts, size, cmds, newblock):
        t0 = time.time()
        pristine = os.path.join(self.work, "pristine.vhdx")
        if os.path.exists(pristine):
            os.unlink(pristine)
        rc, out = run(["qemu-img", "create", "-q", "-f", "vhdx", "-o", opts, pristine, size])
        if rc != 0:
            self.failures.append((name, -1, ["qemu-img create: " + out.strip()]))
            print("%s: qemu-img create failed: %s" % (name, out.strip()))
            return
        self.probe_strict(pristine)
        regions = file_regions(pristine)
        # The uncut run: learn K and make sure the workload itself works.
        img, log, rc, out = self.run_workload("uncut", pristine, cmds, None)
        k = len(self.counted_lines(log))
        crc, _ = run([self.vhdxlog, "check", img])
        if rc != 0 or "failed" in out or k == 0 or crc != 0:
            msg = "uncut run: qemu-io rc %d, %d writes counted, vhdxlog check %d" % (rc, k, crc)
            print("%s: %s\n%s" % (name, msg, out))
            self.failures.append((name, -1, [msg]))
            return
        print("== %s: qemu-img create -o %s %s; qemu-io %s: K = %d writes" % (
            name, opts, size, " ".join("-c '%s'" % c for c in cmds), k), flush=True)
        counts = dict((s, 0) for s in STATES + ["other"])
        obs = {}  # observation -> the N it was made at
        nfail = len(self.failures)
        for n in range(k):
            counts[self.judge(name, n, k, pristine, cmds, newblock, regions, obs)] += 1
        for o, ns in obs.items():
            if o:
                print("   observation: %s: at N = %s" % (o, ",".join(str(x) for x in ns)))
        self.rows.append((name, k, counts, len(self.failures) - nfail, time.time() - t0))


def main(argv):
    only, keep = os.environ.get("WORKLOADS", ""), os.environ.get("KEEP") == "1"
    try:
        opts, args = getopt.gnu_getopt(argv, "w:kq")
    except getopt.GetoptError:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    opts = dict(opts)
    only = opts.get("-w", only)
    keep = keep or "-k" in opts
    verbose = "-q" not in opts
    vhdxlog = args[0] if len(args) > 0 else os.environ.get("VHDXLOG", "")
    shim = args[1] if len(args) > 1 else os.environ.get("VHDXLOG_POWERCUT_SHIM", "")
    for t in ("qemu-img", "qemu-io"):
        if shutil.which(t) is None:
            print("SKIP: %s not installed (apt-get install qemu-utils)" % t)
            return 77
    if not (os.path.isfile(vhdxlog) and os.access(vhdxlog, os.X_OK)) or not os.path.isfile(shim):
        print("powercut_test: need VHDXLOG and SHIM (got %r, %r)" % (vhdxlog, shim), file=sys.stderr)
        return 2
    names = only.replace(",", " ").split() or [w[0] for w in WORKLOADS] + ["sample"]
    wanted = [w for w in WORKLOADS if w[0] in names]
    if not wanted and "sample" not in names:
        print("powercut_test: no workload named %r" % only, file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="vhdxlog-powercut.", dir=os.environ.get("TMPDIR"))
    suite = Suite(os.path.abspath(vhdxlog), os.path.abspath(shim), work, verbose)
    suite.keep_failures = keep
    print("vhdxlog: %s\nshim:    %s\nqemu:    %s" % (
        suite.vhdxlog, suite.shim, run(["qemu-img", "--version"])[1].splitlines()[0]))
    t0 = time.time()
    try:
        for w in wanted:
            suite.workload(*w)
        if "sample" in names and os.path.exists(SAMPLE):
            suite.sample(SAMPLE, 4 * M)
    finally:
        if keep:
            print("scratch directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\n%-12s %4s %6s %6s %11s %14s %7s %6s %6s %7s" % (
        "workload", "K", "clean", "replay", "clear-armed", "complete-clear", "corrupt",
        "other", "FAILED", "seconds"))
    for name, k, c, nf, secs in suite.rows:
        print("%-12s %4d %6d %6d %11d %14d %7d %6d %6d %7.1f" % (
            name, k, c["clean"], c["replay"], c["clear-armed"], c["complete-clear"],
            c["corrupt"], c["other"], nf, secs))
    print("wall time by command: " + ", ".join(
        "%s %d x %.1f s" % (k, v[0], v[1]) for k, v in sorted(SPENT.items(), key=lambda kv: -kv[1][1])))
    print("total: %d images, %d failed, %.1f s" % (
        sum(r[1] for r in suite.rows), len(suite.failures), time.time() - t0))
    return 1 if suite.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
