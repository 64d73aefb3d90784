#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every OS call the vhdxlog CLI makes, failed in turn, with every fault kind.

For each image and command (check, info, dump, in-place replay, replay -o),
one clean run under the fault shim counts the calls of each group; then the
K-th call of each group (every K; see calls_to_fault for replay -o) fails
(EIO, ENOSPC, EINTR; pread/pwrite also SHORT: half the bytes, and ZERO: a
return of 0) and the run is judged:
  EIO/ENOSPC  exit 3, stderr names the system's reason (strerror);
  ZERO        exit 3 and "Input/output error" (no progress is an error);
  EINTR/SHORT retried: same exit code, stdout and bytes as the clean run;
  always      the input is byte-identical, or (in-place replay) a re-run
              replay gives the bytes of the clean replay; OUT is absent or
              the clean result; no OUT.vhdxlog-* file is left behind.
Known failures (bugs outside this folder's brief) are listed in XFAIL by
(command, group, kind) with their reason; they are reported, and an entry
none of whose runs fails any more is an error, so the list cannot go stale.

usage: fault_matrix.py VHDXLOG SHIM WORKDIR NAME=IMAGE:EXPECTED...
  EXPECTED is the image a correct replay of IMAGE leaves.
  FAULTS_ONLY=GROUP:K:KIND (environment) runs one fault on every image/command.
Exit 0 all pass, 1 a failure.
"""
import os
import shutil
import subprocess
import sys
import time

KINDS = {"EIO": 5, "ENOSPC": 28, "EINTR": 4, "ZERO": 5}
GROUPS = ["open", "pread", "pwrite", "fallocate", "ftruncate", "fsync",
          "rename", "mkstemp"]

# (command, group, kind) -> why it fails.
XFAIL = {
    # Empty: every call the CLI makes retries EINTR. A failure that is known
    # and not fixed goes here with its reason; an entry that stops failing
    # fails the run, so the list stays true.
}


class Matrix:
    def __init__(self, vhdxlog, shim, workdir):
        self.v = vhdxlog
        self.shim = shim
        self.w = workdir
        self.fails = []
        self.xfails = {}
        self.runs = 0
        self.counts = {}

    def run(self, args, fault=None, counts=None, shim=True):
        """(exit code, stdout, stderr) of vhdxlog ARGS in the work folder,
        under the shim unless SHIM is False."""
        env = dict(os.environ, LD_PRELOAD=self.shim if shim else "")
        env.pop("VHDXLOG_FAULT", None)
        if fault:
            env["VHDXLOG_FAULT"] = fault
        if counts:
            env["VHDXLOG_FAULT_COUNTS"] = counts
        self.runs += 1 if fault else 0
        try:
            p = subprocess.run([self.v] + args, env=env, cwd=self.w,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=60)
        except subprocess.TimeoutExpired:
            return -1, "", "TIMEOUT: still running after 60 s (a retry loop?)"
        return p.returncode, p.stdout.decode(errors="replace"), \
            p.stderr.decode(errors="replace")

    def fresh(self, image):
        for f in os.listdir(self.w):
            os.unlink(os.path.join(self.w, f))
        shutil.copyfile(image, os.path.join(self.w, "in.img"))

    def leftovers(self):
        """Files in OUT's folder other than the input and OUT itself (the
        temporary copy is OUT.vhdxlog-XXXXXX)."""
        return sorted(f for f in os.listdir(self.w)
                      if f not in ("in.img", "out.img"))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def argv_of(cmd):
    if cmd == "replay-o":
        return ["replay", "-o", "out.img", "in.img"]
    return [cmd, "in.img"]


def judge(m, name, cmd, fault, kind, base, image, orig, expected):
    """Run one fault; a list of what went wrong (empty: passed)."""
    m.fresh(image)
    rc, out, err = m.run(argv_of(cmd), fault=fault)
    bad = []
    inp = os.path.join(m.w, "in.img")
    outp = os.path.join(m.w, "out.img")
    if kind in ("EINTR", "SHORT"):
        if rc != base[0]:
            bad.append("exit %d, the clean run exits %d" % (rc, base[0]))
        elif out != base[1]:
            bad.append("stdout differs from the clean run")
    else:
        reason = os.strerror(KINDS[kind])
        if rc != 3:
            bad.append("exit %d, want 3" % rc)
        if reason not in err:
            bad.append("stderr lacks '%s'" % reason)
    got = read(inp)
    if cmd == "replay":
        if got != orig and got != expected:
            r = m.run(["replay", "in.img"], shim=False)[0]
            if r != 0 or read(inp) != expected:
                bad.append("re-run replay exits %d and does not give the "
                           "clean result" % r)
        elif rc == 0 and got != expected:
            bad.append("exit 0 but the image is not the clean result")
    elif got != orig:
        bad.append("the input changed")
    if cmd == "replay-o":
        if os.path.exists(outp):
            if read(outp) != expected:
                bad.append("OUT exists and is not the clean result")
        elif rc == 0:
            bad.append("exit 0 but no OUT")
        left = m.leftovers()
        if left:
            bad.append("left behind: " + " ".join(left))
    if bad:
        bad.append("stderr: " + err.strip().replace("\n", " | "))
    return bad


def calls_to_fault(count, inplace):
    """1..count, except that for replay -o (inplace: the calls of the in-place
    replay, which runs inside it after the copy) the middle of the replay of
    the copy is left out: the in-place runs fault each of those calls, and
    for -o the cleanup after any of them is the same code path. Kept: every
    call of the copy before it, the first of the replay, and the last two
    (the rename and the directory sync come after it)."""
    if inplace < 4:
        return list(range(1, count + 1))
    first = count - inplace + 1
    return [k for k in range(1, count + 1)
            if k <= first or k >= count - 1]


def one_case(m, name, cmd, image, expected_path, only):
    orig = read(image)
    expected = read(expected_path)
    m.fresh(image)
    cfile = os.path.join(os.path.dirname(m.w), "counts.txt")
    if os.path.exists(cfile):
        os.unlink(cfile)
    rc, out, err = m.run(argv_of(cmd), counts=cfile)
    counts = {}
    for line in open(cfile):
        g, c = line.split()
        counts[g] = int(c)
    m.counts[(name, cmd)] = counts
    want = {"check": 1, "info": 0, "dump": 0, "replay": 0, "replay-o": 0}[cmd]
    if rc != want:
        m.fails.append("%s %s: clean run exits %d, want %d: %s" %
                       (name, cmd, rc, want, err.strip()))
        return
    base = (rc, out)
    inplace = m.counts.get((name, "replay"), {}) if cmd == "replay-o" else {}
    for g in GROUPS:
        kinds = ["EIO", "ENOSPC", "EINTR"]
        if g in ("pread", "pwrite"):
            kinds += ["SHORT", "ZERO"]
        for k in calls_to_fault(counts.get(g, 0), inplace.get(g, 0)):
            for kind in kinds:
                fault = "%s:%d:%s" % (g, k, kind)
                if only and fault != only:
                    continue
                bad = judge(m, name, cmd, fault, kind, base, image, orig,
                            expected)
                key = (cmd, g, kind)
                label = "%s %s %s" % (name, cmd, fault)
                if key in XFAIL:
                    m.xfails.setdefault(key, [])
                    if bad:
                        m.xfails[key].append(label)
                elif bad:
                    m.fails.append("%s: %s" % (label, "; ".join(bad)))


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    vhdxlog, shim, workdir = (os.path.abspath(a) for a in sys.argv[1:4])
    only = os.environ.get("FAULTS_ONLY")
    run_dir = os.path.join(workdir, "run")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(run_dir)
    m = Matrix(vhdxlog, shim, run_dir)
    t0 = time.time()
    for spec in sys.argv[4:]:
        name, rest = spec.split("=", 1)
        image, expected = (os.path.abspath(p) for p in rest.split(":", 1))
        for cmd in ("check", "info", "dump", "replay", "replay-o"):
            one_case(m, name, cmd, image, expected, only)
    for (name, cmd), c in sorted(m.counts.items()):
        print("calls %-6s %-8s %s" % (name, cmd, " ".join(
            "%s=%d" % (g, c.get(g, 0)) for g in GROUPS)))
    for key, labels in sorted(m.xfails.items()):
        if labels:
            print("xfail %s %s %s (%s): %s" % (key + (" ".join(labels),
                                                   XFAIL[key])))
        else:
            m.fails.append("%s %s %s: every run passes, but it is listed in "
                           "XFAIL (%s)" % (key + (XFAIL[key],)))
    for f in m.fails:
        print("FAIL " + f)
    print("fault_matrix: %d faulted runs, %d failed, %d known failures, "
          "%.0f s" % (m.runs, len(m.fails),
                      sum(len(v) for v in m.xfails.values()),
                      time.time() - t0))
    return 1 if m.fails else 0


if __name__ == "__main__":
    sys.exit(main())
