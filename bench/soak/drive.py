#!/usr/bin/env python3
"""The soak's loads and its sampler (bench/soak/run.sh starts the node and passes its details).

Loads run in threads until the deadline; every 10 s the node's RSS and open descriptors are
read from /proc. Bounds: after the first 5 minutes (warm-up: caches, SQLite pages, thread
pools), RSS may not grow by more than 50% nor descriptors by more than 32 to the end, plus the metadata cache's 32 MB bound; no
answer other than the expected ones; every result sent once the PACS is back."""
import argparse, json, os, random, subprocess, threading, time, urllib.error, urllib.request

p = argparse.ArgumentParser()
for a in ["--minutes", "--node-pid", "--dicom-port", "--http-port", "--pacs-http"]:
    p.add_argument(a, type=int, required=True)
for a in ["--admin", "--reader", "--generator", "--work", "--orthanc-config"]:
    p.add_argument(a, required=True)
args = p.parse_args()
deadline = time.time() + args.minutes * 60
lock = threading.Lock()
counts = {}          # what happened, by kind
unexpected = []      # answers no client should get under this load


def count(kind, n=1):
    with lock:
        counts[kind] = counts.get(kind, 0) + n


def call(method, path, token, body=None, accept="application/json", ok=(200,)):
    req = urllib.request.Request(f"http://127.0.0.1:{args.http_port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Accept": accept, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    if status not in ok:
        with lock:
            unexpected.append(f"{method} {path}: {status} {text[:200]!r}")
    return status, text


def sender(k):
    n = 0
    while time.time() < deadline:
        n += 1
        out = f"{args.work}/send{k}-{n}"
        subprocess.run([args.generator, "--out", out, "--slices", "10", "--rows", "64", "--columns", "64",
                        "--patient-id", f"SOAK-{k}-{n}", "--body-part", "CHEST"], capture_output=True, check=True)
        r = subprocess.run(["storescu", "-aec", "ANNOTNODE", "+sd", "+r", "127.0.0.1", str(args.dicom_port), out],
                           capture_output=True, text=True)
        count("studies sent" if r.returncode == 0 else "sends refused")
        if r.returncode != 0:
            with lock:
                unexpected.append(f"storescu: {r.stdout[-300:]}{r.stderr[-300:]}")
        subprocess.run(["rm", "-rf", out])


def reader():
    while time.time() < deadline:
        status, text = call("GET", "/dicomweb/studies?limit=50", args.admin, accept="application/dicom+json")
        count("QIDO-RS searches")
        if status == 200 and text:
            studies = json.loads(text)
            if studies:
                uid = random.choice(studies)["0020000D"]["Value"][0]
                call("GET", f"/dicomweb/studies/{uid}/metadata", args.admin, accept="application/dicom+json")
                count("WADO-RS metadata")
        time.sleep(0.2)


def labeler():
    while time.time() < deadline:
        status, text = call("GET", "/api/v1/tasks?state=SCHEDULED&limit=1", args.reader)
        tasks = json.loads(text)["tasks"] if status == 200 else []
        if not tasks:
            time.sleep(1)
            continue
        task = tasks[0]["id"]
        status, _ = call("POST", f"/api/v1/tasks/{task}/claim", args.reader, ok=(200, 409))
        if status != 200:
            count("claims lost to nobody (409)")
            continue
        _, text = call("GET", f"/api/v1/studies/{tasks[0]['studyInstanceUid']}", args.reader)
        sop = json.loads(text)["Series"][0]["Instances"][0]["SOPInstanceUID"]
        doc = {"observer": {"name": "Soak^Reader"},
               "findings": [{"label": "nodule", "geometry": {"type": "bbox", "image": {"sopInstanceUid": sop}, "points": [[5, 5], [20, 18]]}}]}
        call("PUT", f"/api/v1/tasks/{task}/annotation", args.reader, doc, ok=(201,))
        call("POST", f"/api/v1/tasks/{task}/submit", args.reader)
        count("tasks labeled and submitted")


def pacs():
    proc = None
    while time.time() < deadline:
        proc = subprocess.Popen(["Orthanc", args.orthanc_config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(min(150, max(0, deadline - time.time())))
        if time.time() >= deadline:
            break
        proc.terminate()
        proc.wait()
        count("PACS outages of 30 s")
        time.sleep(30)
    return proc


def sample():
    pid = args.node_pid
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return rss // 1024, len(os.listdir(f"/proc/{pid}/fd"))


threads = [threading.Thread(target=sender, args=(k,)) for k in range(4)] + [threading.Thread(target=reader), threading.Thread(target=labeler)]
for t in threads:
    t.start()
pacs_result = {}
pacs_thread = threading.Thread(target=lambda: pacs_result.setdefault("proc", pacs()))
pacs_thread.start()
samples = []
start = time.time()
while time.time() < deadline:
    samples.append((time.time() - start, *sample()))
    time.sleep(10)
for t in threads:
    t.join()
pacs_thread.join()
# The PACS is up at the end: every result must reach it.
proc = pacs_result.get("proc")
if proc is None or proc.poll() is not None:
    proc = subprocess.Popen(["Orthanc", args.orthanc_config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
sent, pending = 0, -1
for _ in range(90):
    _, text = call("GET", "/api/v1/outbox", args.admin)
    box = json.loads(text)
    destinations = box.get("destinations", {}).values()
    pending = sum(d.get("pending", 0) + d.get("failed", 0) for d in destinations)
    sent = sum(d.get("sent", 0) for d in box.get("destinations", {}).values())
    if pending == 0:
        break
    time.sleep(2)
samples.append((time.time() - start, *sample()))
proc.terminate()

warm = [s for s in samples if s[0] >= 300] or samples
rss0, fd0 = warm[0][1], warm[0][2]
rss_end, fd_end = samples[-1][1], samples[-1][2]
rss_max, fd_max = max(s[1] for s in samples), max(s[2] for s in samples)
# The DICOMweb metadata cache (bounded at 32 MB) fills with the reader's requests over the whole
# run, not in the warm-up: its bound is allowed on top of the 50%.
METADATA_CACHE_MB = 32
rss_bound = rss0 * 1.5 + METADATA_CACHE_MB
grew = rss_end > rss_bound or fd_end > fd0 + 32
print(f"| duration | {args.minutes} min |")
for kind in sorted(counts):
    print(f"| {kind} | {counts[kind]} |")
print(f"| node RSS (MB): after warm-up / max / end (bound) | {rss0} / {rss_max} / {rss_end} ({rss_bound:.0f}) |")
print(f"| node RSS (MB) each minute | {' '.join(str(s[1]) for s in samples[::6])} |")
print(f"| node open descriptors: after warm-up / max / end | {fd0} / {fd_max} / {fd_end} |")
print(f"| results sent to the PACS / still pending at the end | {sent} / {pending} |")
print(f"| unexpected answers | {len(unexpected)} |")
for u in unexpected[:20]:
    print(f"|   {u} | |")
with open(f"{args.work}/samples.json", "w") as f:
    json.dump(samples, f)
raise SystemExit(1 if grew or unexpected or pending != 0 else 0)
