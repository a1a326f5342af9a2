"""Side-by-side benchmark of `kerchunk index` (this repo) and kerchunk (Python, pinned), run by
scripts/bench. Not a test: it prints tables and pass/miss lines against the issue's targets.

    scripts/bench [--data DIR] [--latency-ms 20] [--files 100] [--repeat 3]
                  [--only s3,local,million,many] [--server s3s|moto]

Parts (each prints a table with ratios kerchunk / ours):
  1. S3: the full-size OPERA-like file (256x256 chunks) and its 128x128 variant from a local
     S3-compatible server (moto; s3s-fs with --server s3s) behind a latency proxy
     (benchlib/latency_proxy.py: +LATENCY per request and per new connection). Requests,
     sequential rounds and bytes come from the proxy's log (same accounting for both tools);
     wall time is the whole process.
  2. Local disk, same files: whole-process wall time and peak RSS.
  3. A file with 1,000,000 chunks: in-process chunk refs/s, file in memory (ours:
     examples/bench_index on a single-threaded runtime; kerchunk: translate() timed after
     imports, file in the OS cache).
  4. FILES copies of the OPERA-like file under distinct names on the S3 server: ours indexes
     them in one call (--jobs FILES), kerchunk loops over them in one process (over the first
     --kerchunk-sample files, scaled to FILES: a loop's time is linear in its length).

Inputs are made when missing (under --data, default $KERCHUNK_BENCH_DATA or /work/bench):
full/ and full128/ by scripts/fixtures/opera_like.py (several minutes each), million/ by
benchlib/make_million.py. Both tools get inline_threshold 300 on OPERA files (the seed
workflow's value) and 0 on the million-chunk file.
"""
import argparse
import glob
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from latency_proxy import Proxy, summarize  # noqa: E402

AK, SK, BUCKET = "benchkey", "benchsecret", "bench"
PY = sys.executable
OPERA_THRESHOLD = 300


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def run(cmd, env=None):
    """Run a process; returns (wall s, peak RSS MiB, user+sys s, stdout text).

    Peak RSS comes from GNU time (`/usr/bin/time -f %M`) when installed: the rusage of a child
    forked from this (large) Python process also counts the parent's pages it shared before
    exec, which made every small process look like ~47 MiB."""
    timer = ["/usr/bin/time", "-f", "maxrss_kib=%M"] if os.path.exists("/usr/bin/time") else []
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen([*timer, *cmd], stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, etext = out.read().decode(), err.read().decode()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({p.returncode}):\n{etext[-3000:]}")
    rss = ru.ru_maxrss / 1024
    for line in reversed(etext.splitlines()):
        if line.startswith("maxrss_kib="):
            rss = int(line.split("=", 1)[1]) / 1024
            break
    return wall, rss, ru.ru_utime + ru.ru_stime, text


# ----------------------------------------------------------------------------- inputs

def opera_file(data, sub, chunk):
    d = os.path.join(data, sub)
    files = sorted(glob.glob(os.path.join(d, "*.nc")))
    if files:
        return files[0]
    os.makedirs(d, exist_ok=True)
    print(f"generating {d} (OPERA-like 9618x6898, {chunk}x{chunk} chunks, 4 MiB pages; minutes)",
          flush=True)
    subprocess.run([PY, os.path.join(REPO, "scripts/fixtures/opera_like.py"), d, "--count", "1",
                    "--width", "9618", "--height", "6898", "--chunk", str(chunk),
                    "--page-size", "4194304"], check=True)
    return sorted(glob.glob(os.path.join(d, "*.nc")))[0]


def million_file(data):
    path = os.path.join(data, "million", "million.h5")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run([PY, os.path.join(HERE, "make_million.py"), path], check=True)
    return path


def many_names(n):
    """n distinct OPERA product names (12-day secondary dates)."""
    import datetime as dt
    ref = dt.datetime(2016, 7, 5, 14, 7, 55)
    out = []
    for i in range(n):
        sec = ref + dt.timedelta(days=12 * (i + 1))
        out.append(f"OPERA_L3_DISP-S1_IW_F11116_VV_{ref:%Y%m%dT%H%M%SZ}_{sec:%Y%m%dT%H%M%SZ}"
                   f"_v1.0_20250408T163512Z.nc")
    return out


# ----------------------------------------------------------------------------- S3 server

class Server:
    """s3s-fs (files linked into its root) or moto (files uploaded)."""

    def __init__(self, kind, workdir):
        self.kind = kind
        self.port = free_port()
        self.root = os.path.join(workdir, "s3root")
        os.makedirs(os.path.join(self.root, BUCKET), exist_ok=True)
        if kind == "s3s":
            cmd = ["s3s-fs", "--host", "127.0.0.1", "--port", str(self.port),
                   "--access-key", AK, "--secret-key", SK, self.root]
        else:
            cmd = [PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        if kind == "moto":
            self.client().create_bucket(Bucket=BUCKET)

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.port}",
                            aws_access_key_id=AK, aws_secret_access_key=SK,
                            region_name="us-east-1")

    def put(self, key, path):
        if self.kind == "s3s":
            dst = os.path.join(self.root, BUCKET, key)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if not os.path.exists(dst):
                try:
                    os.link(path, dst)
                except OSError:
                    shutil.copyfile(path, dst)
        else:
            self.client().upload_file(path, BUCKET, key)
        return f"s3://{BUCKET}/{key}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ----------------------------------------------------------------------------- tools

class Tools:
    def __init__(self, kerchunk_bin, bench_bin, proxy_port, out):
        self.bin = kerchunk_bin
        self.bench_bin = bench_bin
        self.endpoint = f"http://127.0.0.1:{proxy_port}"
        self.out = out
        self.which = ("kerchunk", "ours")

    def ours_s3(self, urls, threshold, jobs=None):
        opts = []
        for kv in (f"aws_endpoint={self.endpoint}", "aws_allow_http=true",
                   f"aws_access_key_id={AK}", f"aws_secret_access_key={SK}",
                   "aws_region=us-east-1"):
            opts += ["--data-option", kv]
        if len(urls) == 1:
            dest = ["-o", os.path.join(self.out, "ours.json")]
        else:
            d = os.path.join(self.out, "ours-many")
            os.makedirs(d, exist_ok=True)
            dest = ["--out-dir", d, "--jobs", str(jobs or len(urls))]
        return run([self.bin, "-q", "index", *urls, *dest, "--inline-threshold", str(threshold),
                    *opts])

    def ours_local(self, path, threshold):
        return run([self.bin, "-q", "index", path, "-o", os.path.join(self.out, "ours.json"),
                    "--inline-threshold", str(threshold)])

    def kerchunk(self, sources, threshold, repeat=1):
        d = os.path.join(self.out, "kerchunk")
        os.makedirs(d, exist_ok=True)
        r = run([PY, os.path.join(HERE, "kerchunk_index.py"), *sources, "--endpoint",
                 self.endpoint, "--key", AK, "--secret", SK, "--inline-threshold",
                 str(threshold), "--out-dir", d, "--repeat", str(repeat)])
        return (*r[:3], json.loads(r[3].strip().splitlines()[-1]))

    def ours_inprocess(self, path, threshold, repeat):
        r = run([self.bench_bin, path, "--repeat", str(repeat), "--inline-threshold",
                 str(threshold)])
        return json.loads(r[3].strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report

LINES = []


def say(s=""):
    print(s, flush=True)
    LINES.append(s)


def target(ok, text):
    say(f"  {'PASS' if ok else 'MISS'}  {text}")


def fmt_ratio(a, b):
    return f"{a / b:.1f}x" if b else "-"


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        say("  " + "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))


def median_runs(fn, repeat):
    runs = [fn() for _ in range(repeat)]
    return runs


# ----------------------------------------------------------------------------- parts

def part_s3(tools, proxy, server, files, repeat, latency_ms):
    say(f"== 1. OPERA-like files over S3 ({server.kind} on loopback, +{latency_ms:g} ms per "
        f"request and per new connection)")
    rows, verdicts = [], []
    for label, path in files:
        url = server.put(f"single/{label}/{os.path.basename(path)}", path)
        res = {}
        for tool in tools.which:
            walls, cpu, last = [], [], None
            for _ in range(repeat):
                proxy.take_log()
                if tool == "ours":
                    w, _, c, _ = tools.ours_s3([url], OPERA_THRESHOLD)
                else:
                    w, _, c, _ = tools.kerchunk([url], OPERA_THRESHOLD)
                last = summarize(proxy.take_log())
                walls.append(w)
                cpu.append(c)
            res[tool] = (last, statistics.median(walls), statistics.median(cpu))
        if "kerchunk" not in res:  # --ours-only: no kerchunk side to compare with
            (orq, ob, on), ow, oc = res["ours"]
            rows.append([label, "ours", orq, on, f"{ob / 1e6:.2f}", f"{ow:.3f}", f"{oc:.3f}"])
            verdicts.append((label, on, 0))
            continue
        (kr, kb, kn), kw, kc = res["kerchunk"]
        (orq, ob, on), ow, oc = res["ours"]
        rows.append([label, "kerchunk", kr, kn, f"{kb / 1e6:.2f}", f"{kw:.2f}", f"{kc:.2f}"])
        rows.append(["", "ours", orq, on, f"{ob / 1e6:.2f}", f"{ow:.3f}", f"{oc:.3f}"])
        rows.append(["", "kerchunk/ours", fmt_ratio(kr, orq), fmt_ratio(kn, on),
                     fmt_ratio(kb, ob), fmt_ratio(kw, ow), fmt_ratio(kc, oc)])
        verdicts.append((label, on, kw / ow if ow else 0))
    table(["file", "tool", "requests", "rounds", "MB read", "wall s", "cpu s"], rows)
    for label, rounds, ratio in verdicts:
        target(rounds <= 3, f"{label}: ours {rounds} sequential rounds (target <= 3)")
        if ratio:
            target(ratio >= 20,
                   f"{label}: wall time {ratio:.1f}x less than kerchunk (target >= 20x)")
    say()
    return {label: (rounds, ratio) for label, rounds, ratio in verdicts}


def part_local(tools, files, repeat):
    say("== 2. Same files on local disk (whole process: start, index, write JSON)")
    rows, verdicts = [], []
    for label, path in files:
        ours = [tools.ours_local(path, OPERA_THRESHOLD) for _ in range(repeat)]
        ker = [tools.kerchunk([path], OPERA_THRESHOLD) for _ in range(repeat)]
        ow, orss = statistics.median(r[0] for r in ours), max(r[1] for r in ours)
        kw, krss = statistics.median(r[0] for r in ker), max(r[1] for r in ker)
        kin = statistics.median(r[3]["translate_s"] for r in ker)
        rows.append([label, "kerchunk", f"{kw:.3f}", f"{krss:.0f}", f"{kin:.3f}"])
        rows.append(["", "ours", f"{ow:.3f}", f"{orss:.0f}", ""])
        rows.append(["", "kerchunk/ours", fmt_ratio(kw, ow), fmt_ratio(krss, orss), ""])
        verdicts.append((label, kw / ow, orss / krss))
    table(["file", "tool", "wall s", "peak RSS MiB", "kerchunk translate() s"], rows)
    for label, ratio, mem in verdicts:
        target(ratio >= 20, f"{label}: whole-process wall {ratio:.1f}x less than kerchunk "
                            f"(target >= 20x)")
        target(mem <= 0.25, f"{label}: peak memory {mem:.2f} of kerchunk's (target <= 0.25)")
    say()


def part_million(tools, path, repeat):
    say("== 3. 1,000,000-chunk file (v1 B-tree), in-process, file in memory / OS cache")
    ours = tools.ours_inprocess(path, 0, repeat)
    ker = tools.kerchunk([path], 0, repeat=max(1, min(repeat, 2)))[3]
    k_rate = ker["chunk_refs"] / ker["translate_s"] if ker["translate_s"] else 0
    rows = [["kerchunk", ker["chunk_refs"], f"{ker['translate_s']:.3f}", f"{k_rate:,.0f}"],
            ["ours", ours["chunk_refs"], f"{ours['best_s']:.3f}",
             f"{ours['chunk_refs_per_s']:,.0f}"],
            ["ours/kerchunk", "", "", fmt_ratio(ours["chunk_refs_per_s"], k_rate)]]
    table(["tool", "chunk refs", "best s", "chunk refs/s (1 core)"], rows)
    target(ours["chunk_refs_per_s"] >= 1e6,
           f"{ours['chunk_refs_per_s']:,.0f} chunk refs/s per core (target >= 1,000,000)")
    say()


def part_many(tools, proxy, server, path, n, latency_ms, kerchunk_sample):
    say(f"== 4. {n} OPERA-like files (copies under distinct names) over S3, +{latency_ms:g} ms")
    urls = [server.put(f"many/{name}", path) for name in many_names(n)]
    proxy.take_log()
    single = [tools.ours_s3([u], OPERA_THRESHOLD)[0] for u in urls[:3]]
    proxy.take_log()
    ow, orss, ocpu, _ = tools.ours_s3(urls, OPERA_THRESHOLD, jobs=n)
    oreq, obytes, orounds = summarize(proxy.take_log())
    # kerchunk loops over the files one after another, so its time is linear in their number:
    # it runs on the first `kerchunk_sample` files and is scaled to n (marked "est.").
    sample = urls[:max(1, min(kerchunk_sample, n))]
    kw, krss, kcpu, kinfo = tools.kerchunk(sample, OPERA_THRESHOLD)
    kreq, kbytes, krounds = summarize(proxy.take_log())
    scale = n / len(sample)
    est = "" if len(sample) == n else " (est.)"
    kw, kcpu, kreq, kbytes, krounds = (kw * scale, kcpu * scale, kreq * scale, kbytes * scale,
                                       krounds * scale)
    slowest = max(single)
    rows = [[f"kerchunk (loop){est}", f"{kreq:.0f}", f"{krounds:.0f}", f"{kbytes / 1e6:.1f}",
             f"{kw:.1f}", f"{kcpu:.1f}", f"{krss:.0f}"],
            ["ours (one call)", oreq, orounds, f"{obytes / 1e6:.1f}", f"{ow:.2f}", f"{ocpu:.2f}",
             f"{orss:.0f}"],
            ["kerchunk/ours", fmt_ratio(kreq, oreq), fmt_ratio(krounds, orounds),
             fmt_ratio(kbytes, obytes), fmt_ratio(kw, ow), fmt_ratio(kcpu, ocpu),
             fmt_ratio(krss, orss)]]
    table(["tool", "requests", "rounds", "MB read", "wall s", "cpu s", "peak RSS MiB"], rows)
    if est:
        say(f"  kerchunk measured on {len(sample)} of the {n} files and scaled by {scale:g}")
    say(f"  ours, one file alone (slowest of 3): {slowest:.3f} s; {n} files: {ow:.2f} s "
        f"= {ow / slowest:.1f}x; CPU {ocpu:.2f} s on {os.cpu_count()} cores")
    target(ow <= 2 * slowest, f"{n} files in one call within 2x of the slowest single file "
                              f"({ow / slowest:.1f}x)")
    say()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("KERCHUNK_BENCH_DATA", "/work/bench"))
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--kerchunk-sample", type=int, default=5,
                    help="part 4: files kerchunk indexes (its loop time is scaled to --files)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="s3,local,million,many")
    ap.add_argument("--server", choices=["s3s", "moto"], default="moto",
                    help="moto (default), or s3s-fs, which hashes the whole object per request")
    ap.add_argument("--kerchunk-bin", required=True)
    ap.add_argument("--bench-bin", required=True)
    ap.add_argument("--report", help="also write the tables to this file")
    ap.add_argument("--ours-only", action="store_true",
                    help="part 1: measure only kerchunk-rs (no ratios; for quick iteration)")
    a = ap.parse_args()
    parts = set(a.only.split(","))

    import kerchunk
    load = os.getloadavg()[0]
    say(f"kerchunk-rs benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  "
        f"kerchunk {kerchunk.__version__}  cores {os.cpu_count()}  load {load:.1f}")
    if load > (os.cpu_count() or 1):
        say(f"  note: load average {load:.1f} exceeds the core count: timings are pessimistic")
    say()

    full = opera_file(a.data, "full", 256)
    full128 = opera_file(a.data, "full128", 128)
    files = [("full 256x256", full), ("full 128x128", full128)]
    work = tempfile.mkdtemp(prefix="kerchunk-bench-")
    server = proxy = None
    try:
        if parts & {"s3", "many"}:
            server = Server(a.server, work)
            proxy = Proxy(0, "127.0.0.1", server.port, a.latency_ms / 1000).start()
        tools = Tools(a.kerchunk_bin, a.bench_bin, proxy.port if proxy else 0,
                      os.path.join(work, "out"))
        os.makedirs(tools.out, exist_ok=True)
        if a.ours_only:
            tools.which = ("ours",)
        if "s3" in parts:
            part_s3(tools, proxy, server, files, a.repeat, a.latency_ms)
        if "local" in parts:
            part_local(tools, files, a.repeat)
        if "million" in parts:
            part_million(tools, million_file(a.data), a.repeat)
        if "many" in parts:
            part_many(tools, proxy, server, full, a.files, a.latency_ms, a.kerchunk_sample)
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if a.report:
        with open(a.report, "w") as f:
            f.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
