#!/usr/bin/env python3
"""The crash campaigns: SIGKILL the node (or Orthanc with the plugin) at random moments while it
works, restart it on the same data each time, then check that nothing it acknowledged was lost.

Two loops, for either deployment (bench/crash/run.sh passes the build's paths):
  ingest    a new study per round is sent with storescu and the server killed during the send;
            afterwards every instance storescu saw acknowledged must be listed (QIDO-RS), its
            stored dataset byte-identical, and every study must have its labeling tasks.
  labeling  two readers label and a reviewer approves many cases (claim, save twice, submit,
            review) while the server is killed; afterwards every acknowledged revision must read
            back as it was sent, every acknowledged submit and approval must have stuck, every
            result the server lists must be at the PACS (no more, no fewer), the outbox must be
            empty and the audit chain intact.
Prints a Markdown table (for docs/reliability.md); exits 1 on any loss."""
import argparse, collections, hashlib, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.parse, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--deployment", choices=["node", "plugin"], default="node")
p.add_argument("--loop", choices=["ingest", "labeling"], default="ingest")
p.add_argument("--kills", type=int, default=20)
p.add_argument("--slices", type=int, default=500, help="instances per study (ingest)")
p.add_argument("--cases", type=int, default=150, help="studies to label (labeling)")
p.add_argument("--node", help="the dicom-node binary")
p.add_argument("--plugin", help="libAnnotationNode.so")
p.add_argument("--generator", required=True)
p.add_argument("--work", help="a scratch folder (default: a new temporary one, removed at the end)")
p.add_argument("--seed", type=int, default=None)
args = p.parse_args()
own_work = args.work is None
if own_work:
    args.work = tempfile.mkdtemp(prefix="annot-crash.")
for a in ("node", "plugin", "generator", "work"):  # Orthanc resolves plugin paths against its configuration's folder
    if getattr(args, a):
        setattr(args, a, os.path.abspath(getattr(args, a)))
rng = random.Random(args.seed)
os.environ["TCP_NODELAY"] = "1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, method="GET", token=None, body=None, accept="application/json", timeout=30):
    """(status, body); status None when the server could not be reached or dropped the request."""
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError, ConnectionError):
        return None, b""


def eventually(check, seconds=60, step=0.1):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


def give_up(what, log):
    """Stops the campaign with the end of the server's log (the scratch folder goes with the run)."""
    with open(log, errors="replace") as f:
        tail = f.readlines()[-40:]
    sys.exit(f"{what}; the end of {log}:\n" + "".join(tail))


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1)


PROTOCOL = {"id": "crash", "version": "1.0.0", "title": "Crash campaign: two readers box a nodule, a reviewer approves",
            "procedure": {"code": "25045-6", "scheme": "LN", "meaning": "CT unspecified body region"},
            "appliesTo": {"modalities": ["CT"]}, "readers": 2, "review": True,
            "labels": [{"key": "nodule", "finding": {"code": "27925004", "scheme": "SCT", "meaning": "Nodule"},
                        "findingSite": {"code": "39607008", "scheme": "SCT", "meaning": "Lung structure"},
                        "geometries": ["bbox"]}]}
READERS = ["crash-reader-1", "crash-reader-2"]
NAMES = {"admin": "crash-admin", "reviewer": "crash-reviewer", **{r: r for r in READERS}}  # client -> user name


class Server:
    """A server process that campaigns start, kill with SIGKILL and restart; ready when
    `ready_url` answers 200."""

    def launch(self, command, log_path, ready_url, what):
        log = open(log_path, "a")
        self.proc = subprocess.Popen(command, stdout=log, stderr=log)
        if not eventually(lambda: self.proc.poll() is None and http(ready_url)[0] == 200):
            give_up(f"{what} did not start", log_path)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


class Orthanc(Server):
    """A real Orthanc: the PACS the node sends results to, or the host of the plugin."""

    def __init__(self, directory, plugin=None, protocols=None):
        self.dir = directory
        self.http_port, self.dicom_port = free_port(), free_port()
        self.proc = None
        os.makedirs(f"{directory}/storage", exist_ok=True)
        config = {"Name": "crash", "StorageDirectory": f"{directory}/storage", "IndexDirectory": f"{directory}/storage",
                  "DicomAet": "ORTHANC", "DicomPort": self.dicom_port, "HttpPort": self.http_port,
                  "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "DicomCheckCalledAet": False,
                  "StorageCompression": False, "StableAge": 1, "Plugins": []}
        if plugin:
            config["Plugins"] = [plugin, "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"]
            config["AnnotationNode"] = {"DataDirectory": f"{directory}/annotation", "InitialAdmin": NAMES["admin"],
                                        "ProtocolsDirectory": protocols, "OutboxMaxBackoffSeconds": 2}
        write_json(f"{directory}/orthanc.json", config)
        self.ready_path = "/annotation/healthz" if plugin else "/system"

    def start(self):
        self.launch(["Orthanc", f"{self.dir}/orthanc.json"], f"{self.dir}/orthanc.log",
                    f"http://127.0.0.1:{self.http_port}{self.ready_path}", "Orthanc")

    def rest(self, path, body=None):
        status, text = http(f"http://127.0.0.1:{self.http_port}{path}", "POST" if body is not None else "GET",
                            body=body if body is None or isinstance(body, bytes) else json.dumps(body).encode())
        return json.loads(text) if status == 200 and text[:1] in (b"[", b"{") else (text if status == 200 else None)

    def instance_id(self, sop):
        hits = self.rest("/tools/lookup", sop.encode()) or []
        return next((h["ID"] for h in hits if h["Type"] == "Instance"), None)

    def dataset(self, sop):
        oid = self.instance_id(sop)
        return dataset_of(self.rest(f"/instances/{oid}/file")) if oid else None

    def instances_of_modality(self, study, modality):
        found = self.rest("/tools/find", {"Level": "Instance", "Expand": True,
                                          "Query": {"StudyInstanceUID": study, "Modality": modality}}) or []
        return {i["MainDicomTags"]["SOPInstanceUID"] for i in found}


def dataset_of(part10):
    """The dataset of a Part 10 file, without preamble and meta header (servers may rewrite those)."""
    if part10 is None or part10[128:132] != b"DICM":
        return part10
    group = int.from_bytes(part10[140:144], "little")
    return part10[144 + group:]


class NodeDeployment(Server):
    """dicom-node with its own data directory; results go to a real Orthanc as PACS."""
    name = "dicom-node"
    aet = "ANNOTNODE"

    def __init__(self, work, protocols):
        self.work = work
        self.pacs = Orthanc(f"{work}/pacs")
        self.pacs.start()
        self.dicom_port, self.http_port = free_port(), free_port()
        self.config = f"{work}/node.json"
        write_json(self.config, {"DataDirectory": f"{work}/data", "DicomPort": self.dicom_port, "HttpPort": self.http_port,
                                 "HttpBindAddress": "127.0.0.1", "StableAge": 1, "LogLevel": "warn", "ProtocolsDirectory": protocols,
                                 "Pacs": [f"ORTHANC@127.0.0.1:{self.pacs.dicom_port}"], "OutboxMaxBackoffSeconds": 2})
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.proc = None
        self.tokens = {"admin": self.cli_user(NAMES["admin"], "admin"), "reviewer": self.cli_user(NAMES["reviewer"], "reviewer")}
        for r in READERS:
            self.tokens[r] = self.cli_user(r, "annotator")

    def cli_user(self, name, role):
        out = subprocess.run([args.node, "user", "add", name, "--role", role, "--config", self.config],
                             capture_output=True, text=True, check=True).stdout
        return out.strip().splitlines()[-1]

    def start(self):
        self.launch([args.node, "serve", "--config", self.config], f"{self.work}/node.log", f"{self.base}/healthz", "the node")

    def stop(self):
        super().stop()
        self.pacs.stop()

    def stored_dataset(self, sop):
        """The file the node keeps (instances/<2 hex>/<sha256 of the SOP Instance UID>.dcm)."""
        digest = hashlib.sha256(sop.encode()).hexdigest()
        try:
            return dataset_of(open(f"{self.work}/data/instances/{digest[:2]}/{digest}.dcm", "rb").read())
        except FileNotFoundError:
            return None

    def results_home(self):
        return self.pacs


class PluginDeployment:
    """Orthanc with the labeling plugin: Orthanc stores the images and receives the results."""
    name = "plugin in Orthanc"
    aet = "ORTHANC"

    def __init__(self, work, protocols):
        self.orthanc = Orthanc(f"{work}/orthanc", plugin=args.plugin, protocols=protocols)
        self.orthanc.start()
        self.dicom_port, self.http_port = self.orthanc.dicom_port, self.orthanc.http_port
        self.base = f"http://127.0.0.1:{self.http_port}/annotation"
        admin = open(f"{work}/orthanc/annotation/initial-admin.token").read().strip()
        self.tokens = {"admin": admin, "reviewer": self.api_user(admin, NAMES["reviewer"], "reviewer")}
        for r in READERS:
            self.tokens[r] = self.api_user(admin, r, "annotator")

    def api_user(self, admin, name, role):
        status, body = http(f"{self.base}/api/v1/users", "POST", admin, {"name": name, "role": role})
        if status != 201:
            sys.exit(f"could not add {name}: {status} {body[:200]!r}")
        return json.loads(body)["token"]

    def start(self):
        self.orthanc.start()

    def kill(self):
        self.orthanc.kill()

    def stop(self):
        self.orthanc.stop()

    def stored_dataset(self, sop):
        return self.orthanc.dataset(sop)

    def results_home(self):
        return self.orthanc


def api(deployment, method, path, who, body=None):
    status, text = http(f"{deployment.base}/api/v1{path}", method, deployment.tokens[who], body)
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, None


def tasks_of(deployment, query):
    """Every task matching the query (the API pages by at most 1000); None when it did not answer."""
    tasks = []
    while True:
        status, body = api(deployment, "GET", "/tasks?" + urllib.parse.urlencode({**query, "limit": 1000, "offset": len(tasks)}), "admin")
        if status != 200:
            return None
        tasks += body["tasks"]
        if len(body["tasks"]) < 1000:
            return tasks


def listed_instances(deployment, study):
    status, text = http(f"{deployment.base}/dicomweb/studies/{study}/instances?limit=100000", token=deployment.tokens["admin"],
                        accept="application/dicom+json")
    return {i["00080018"]["Value"][0] for i in json.loads(text)} if status == 200 and text else set()


def generate(out, slices, patient):
    uid = subprocess.run([args.generator, "--out", out, "--slices", str(slices), "--rows", "64", "--columns", "64",
                          "--patient-id", patient], capture_output=True, text=True, check=True).stdout.strip()
    return uid.splitlines()[-1]


def acknowledged(log):
    """The files storescu saw acknowledged: a Success response after "Sending file"."""
    acked, current = [], None
    for line in open(log, errors="replace"):
        if "Sending file:" in line:
            current = line.split()[-1]
        elif "Received Store Response (Success)" in line and current:
            acked.append(current)
            current = None
    return acked


def sop_of(path):
    out = subprocess.run(["dcmdump", "+P", "SOPInstanceUID", path], capture_output=True, text=True).stdout
    return out.split("[", 1)[1].split("]", 1)[0]


def ingest_campaign(d):
    rows, studies, acked = [], [], []
    for k in range(1, args.kills + 1):
        out = f"{args.work}/study{k}"
        studies.append((generate(out, args.slices, f"CRASH-{k}"), out))
        log = f"{args.work}/send-{k}.log"
        with open(log, "w") as f:
            sender = subprocess.Popen(["storescu", "-v", "-aec", d.aet, "+sd", "+r", "127.0.0.1", str(d.dicom_port), out],
                                      stdout=f, stderr=subprocess.STDOUT)
            time.sleep(rng.uniform(0.05, 1.0))
            d.kill()
            sender.wait()
        got = acknowledged(log)
        acked += got
        rows.append(len(got))
        print(f"kill {k}: {len(got)} instances acknowledged before it", file=sys.stderr)
        d.start()
    for _, out in studies:
        subprocess.run(["storescu", "-aec", d.aet, "+sd", "+r", "127.0.0.1", str(d.dicom_port), out], capture_output=True)
    listed = set()
    complete = 0
    for uid, _ in studies:
        found = listed_instances(d, uid)
        listed |= found
        complete += len(found) == args.slices
    lost, changed = [], []
    for f in sorted(set(acked)):
        sop = sop_of(f)
        stored = d.stored_dataset(sop)
        if sop not in listed or stored is None:
            lost.append(f)
        elif stored != dataset_of(open(f, "rb").read()):
            changed.append(f)
    # Every study must still become a labeling case, however its arrival was interrupted.
    scheduled = 0
    for uid, _ in studies:
        if eventually(lambda: len([t for t in (tasks_of(d, {"study": uid}) or []) if t["step"] == "label"]) == PROTOCOL["readers"], 90, 0.5):
            scheduled += 1
    table = [("deployment", d.name), ("kills (SIGKILL)", args.kills),
             ("instances acknowledged before each kill", " ".join(map(str, rows))),
             ("kills that landed during a send (some acknowledged, not all)", sum(0 < n < args.slices for n in rows)),
             ("instances acknowledged before the kills, in all", len(set(acked))),
             ("acknowledged but not listed, or stored file missing", f"**{len(lost)}**"),
             ("acknowledged but stored bytes differ", f"**{len(changed)}**"),
             (f"studies complete after the final send (of {args.kills}, {args.slices} instances each)", complete),
             (f"studies with their labeling tasks scheduled (of {args.kills})", scheduled)]
    failed = bool(lost or changed) or complete != args.kills or scheduled != args.kills
    return table, failed


class Labeling:
    """The labeling loop's clients. Every acknowledgement is recorded; a request the server dropped
    (it was killed) is counted by step and the client picks up where the server's state says."""

    def __init__(self, d):
        self.d = d
        self.lock = threading.Lock()
        self.saved = []            # (task, revision, document) for every 201
        self.submitted = set()     # label tasks whose submit was answered 200
        self.approved = set()      # review tasks whose approval was answered 200
        self.interrupted = collections.Counter()
        self.unexpected = []
        self.done = threading.Event()
        self.image_of = {}

    def call(self, step, method, path, who, body=None, ok=(200,), tolerated=()):
        status, answer = api(self.d, method, path, who, body)
        if status is None:
            with self.lock:
                self.interrupted[step] += 1
            time.sleep(0.3)
        elif status not in ok and status not in tolerated:
            with self.lock:
                self.unexpected.append(f"{method} {path} as {who}: {status} {json.dumps(answer)[:200]}")
        return status, answer

    def image(self, who, study):
        if study not in self.image_of:
            status, body = self.call("read study", "GET", f"/studies/{study}", who)
            if status != 200:
                return None
            self.image_of[study] = body["Series"][0]["Instances"][0]["SOPInstanceUID"]
        return self.image_of[study]

    def next_task(self, who, step):
        """Own work in progress first (it survived a crash), then an open task."""
        status, body = self.call("list", "GET", "/tasks?" + urllib.parse.urlencode({"state": "IN PROGRESS", "step": step, "assignee": NAMES[who], "limit": 5}), who)
        if status != 200:
            return None
        if body["tasks"]:
            return body["tasks"][0]
        status, body = self.call("list", "GET", "/tasks?" + urllib.parse.urlencode({"state": "SCHEDULED", "step": step, "limit": 50}), who)
        if status != 200:
            return None
        candidates = body["tasks"]
        rng.shuffle(candidates)
        for t in candidates:
            # 409: another client took it first, or this reader already holds the case's other slot.
            status, _ = self.call("claim", "POST", f"/tasks/{t['id']}/claim", who, ok=(200,), tolerated=(409,))
            if status == 200:
                return t
            if status is None:
                return None
        return None

    def reader(self, who):
        while not self.done.is_set():
            task = self.next_task(who, "label")
            if task is None:
                time.sleep(0.2)
                continue
            sop = self.image(who, task["studyInstanceUid"])
            if sop is None:
                continue
            for _ in range(2):  # two saves: each acknowledged revision must survive as sent
                x, y = rng.randint(0, 40), rng.randint(0, 40)
                doc = {"observer": {"name": f"Crash^{who}"},
                       "findings": [{"label": "nodule", "geometry": {"type": "bbox", "image": {"sopInstanceUid": sop},
                                                                     "points": [[x, y], [x + rng.randint(2, 20), y + rng.randint(2, 20)]]}}]}
                status, body = self.call("save", "PUT", f"/tasks/{task['id']}/annotation", who, doc, ok=(201,))
                if status != 201:
                    break
                with self.lock:
                    self.saved.append((task["id"], body["revision"], doc))
            else:
                status, _ = self.call("submit", "POST", f"/tasks/{task['id']}/submit", who)
                if status == 200:
                    with self.lock:
                        self.submitted.add(task["id"])

    def reviewer(self):
        while not self.done.is_set():
            task = self.next_task("reviewer", "review")
            if task is None:
                time.sleep(0.2)
                continue
            status, _ = self.call("review", "POST", f"/tasks/{task['id']}/review", "reviewer", {"decision": "approve"})
            if status == 200:
                with self.lock:
                    self.approved.add(task["id"])


def outbox_pending(d):
    status, box = api(d, "GET", "/outbox", "admin")
    if status != 200:
        return None
    return sum(x.get("pending", 0) + x.get("failed", 0) for x in box.get("destinations", {}).values())


def labeling_campaign(d):
    studies = []
    for k in range(args.cases):
        studies.append(generate(f"{args.work}/cases/{k}", 2, f"CASE-{k}"))
    r = subprocess.run(["storescu", "-aec", d.aet, "+sd", "+r", "127.0.0.1", str(d.dicom_port), f"{args.work}/cases"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"storescu failed: {r.stderr[-500:]}")
    if not eventually(lambda: len(tasks_of(d, {"step": "label"}) or []) == PROTOCOL["readers"] * args.cases, 120, 0.5):
        sys.exit(f"the cases were not scheduled: {len(tasks_of(d, {'step': 'label'}) or [])} label tasks"
                 f" for {args.cases} cases of {PROTOCOL['readers']} readers")
    loop = Labeling(d)
    clients = [threading.Thread(target=loop.reader, args=(r,)) for r in READERS] + [threading.Thread(target=loop.reviewer)]
    for c in clients:
        c.start()
    kills_with_outbox_busy = 0
    started = time.time()
    for k in range(1, args.kills + 1):
        time.sleep(rng.uniform(0.1, 1.5))
        pending = outbox_pending(d)
        kills_with_outbox_busy += bool(pending)
        d.kill()
        print(f"kill {k}: {len(loop.saved)} saves, {len(loop.submitted)} submits, {len(loop.approved)} approvals acknowledged so far;"
              f" {pending} results owed to the PACS", file=sys.stderr)
        d.start()
    kill_seconds = time.time() - started
    # Let the clients finish every case, then the outbox empty.
    finished = eventually(lambda: len([t for t in (tasks_of(d, {"step": "review", "state": "COMPLETED"}) or [])]) == args.cases, 600, 1)
    loop.done.set()
    for c in clients:
        c.join()
    drained = eventually(lambda: outbox_pending(d) == 0, 120, 1)

    # What was acknowledged must be there, as it was sent.
    lost_revisions = []
    for task, revision, doc in loop.saved:
        status, body = api(d, "GET", f"/tasks/{task}/annotation?revision={revision}", "admin")
        kept = body.get("annotation", body) if status == 200 else None
        got = [(f["label"], f["geometry"]["points"]) for f in kept.get("findings", [])] if kept else None
        sent = [(f["label"], f["geometry"]["points"]) for f in doc["findings"]]
        if got != sent:
            lost_revisions.append((task, revision, status))
    tasks = {t["id"]: t for t in tasks_of(d, {}) or []}
    lost_submits = [t for t in loop.submitted if tasks.get(t, {}).get("state") != "COMPLETED"]
    lost_approvals = [t for t in loop.approved if tasks.get(t, {}).get("state") != "COMPLETED"]
    # Every result the server lists is at the PACS, and the PACS has no result the server does not list.
    listed_outputs, missing_at_pacs, extra_at_pacs = 0, [], []
    home = d.results_home()
    by_study = collections.defaultdict(set)
    srs_of = collections.Counter()  # label task -> its SR outputs
    for t in tasks.values():
        if t["step"] != "label":
            continue
        status, full = api(d, "GET", f"/tasks/{t['id']}", "admin")
        for o in full.get("outputs", []) if status == 200 else []:
            by_study[t["studyInstanceUid"]].add(o["sopInstanceUid"])
            srs_of[t["id"]] += o["kind"] == "SR"
    for study in studies:
        at_pacs = home.instances_of_modality(study, "SR")
        listed_outputs += len(by_study[study])
        missing_at_pacs += sorted(by_study[study] - at_pacs)
        extra_at_pacs += sorted(at_pacs - by_study[study])
    # Each reader of an approved case has exactly one SR (one revision submitted, one result).
    approved_studies = {t["studyInstanceUid"] for t in tasks.values() if t["step"] == "review" and t["state"] == "COMPLETED"}
    uncovered = [t for t in tasks.values() if t["step"] == "label" and t["studyInstanceUid"] in approved_studies and
                 srs_of.get(t["id"], 0) != 1]
    status, audit = api(d, "GET", "/audit?verify=true&limit=1", "admin")
    intact = status == 200 and audit["verification"]["intact"]
    table = [("deployment", d.name), ("kills (SIGKILL)", args.kills), ("seconds under kills", round(kill_seconds)),
             ("requests dropped by a kill, by step", ", ".join(f"{k} {v}" for k, v in sorted(loop.interrupted.items())) or "none"),
             ("kills while results were owed to the PACS", kills_with_outbox_busy),
             ("saves / submits / approvals acknowledged", f"{len(loop.saved)} / {len(loop.submitted)} / {len(loop.approved)}"),
             ("acknowledged revisions missing or changed", f"**{len(lost_revisions)}**"),
             ("acknowledged submits or approvals undone", f"**{len(lost_submits) + len(lost_approvals)}**"),
             (f"cases approved at the end (of {args.cases})", sum(t["step"] == "review" and t["state"] == "COMPLETED" for t in tasks.values())),
             ("results listed by the server / missing at the PACS / at the PACS but not listed",
              f"{listed_outputs} / **{len(missing_at_pacs)}** / **{len(extra_at_pacs)}**"),
             ("readers of approved cases without exactly one SR", f"**{len(uncovered)}**"),
             ("results still owed to the PACS at the end", 0 if drained else outbox_pending(d)),
             ("audit chain intact", "yes" if intact else "**no**"),
             ("unexpected answers", len(loop.unexpected))]
    for line in loop.unexpected[:10]:
        print("unexpected:", line, file=sys.stderr)
    for item in lost_revisions[:10]:
        print("revision lost:", item, file=sys.stderr)
    failed = not (finished and drained and intact) or bool(lost_revisions or lost_submits or lost_approvals or missing_at_pacs
                                                             or extra_at_pacs or uncovered or loop.unexpected)
    return table, failed


def main():
    protocols = f"{args.work}/protocols"
    os.makedirs(protocols, exist_ok=True)
    write_json(f"{protocols}/crash.json", PROTOCOL)
    d = NodeDeployment(args.work, protocols) if args.deployment == "node" else PluginDeployment(args.work, protocols)
    try:
        if args.deployment == "node":
            d.start()
        table, failed = ingest_campaign(d) if args.loop == "ingest" else labeling_campaign(d)
    finally:
        d.stop()
        if own_work:
            shutil.rmtree(args.work, ignore_errors=True)
    print(f"| {args.loop} crash campaign | |\n|---|---|")
    for key, value in table:
        print(f"| {key} | {value} |")
    sys.exit(1 if failed else 0)


main()
