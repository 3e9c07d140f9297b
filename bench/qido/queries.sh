# Shared by bench/qido/run.sh and bench/scaleout/run.sh (sourced after bench/common.sh): the
# DICOMweb query lists both send, over data made by annot-testdata --studies ... --patient-id Q.
# Uses $queries (how many of each kind).

# Query lists over the generated data: patient IDs, 30-day date windows, modalities, series.
make_queries() {  # $1 output, $2 number of studies in the data, $3 series list file ("study series" lines)
  node -e '
    const [out, n, q, seriesFile] = process.argv.slice(1);
    const series = require("fs").readFileSync(seriesFile, "utf8").trim().split("\n").map((l) => l.split(" "));
    const pick = (k) => 1 + Math.floor(Math.random() * k);
    const day = (d) => { const t = new Date(Date.UTC(2000, 0, d)); return t.toISOString().slice(0, 10).replace(/-/g, ""); };
    const list = (f) => Array.from({ length: Number(q) }, f);
    require("fs").writeFileSync(out, JSON.stringify({
      "studies by PatientID": list(() => `/studies?PatientID=Q-${pick(Number(n))}`),
      "studies by 30-day StudyDate range": list(() => { const d = pick(Math.min(Number(n), 9970)); return `/studies?StudyDate=${day(d)}-${day(d + 29)}&limit=100`; }),
      "studies by ModalitiesInStudy": list((_, i) => `/studies?ModalitiesInStudy=${i % 2 ? "MR" : "CT"}&limit=100`),
      "series metadata": list(() => { const s = series[pick(series.length) - 1]; return `/studies/${s[0]}/series/${s[1]}/metadata`; }),
    }));' "$1" "$2" "$queries" "$3"
}
