#!/usr/bin/env bash
# bench/ingest: the same 500-slice 512x512 CT series sent with DCMTK storescu over one
# association and over four, to dicom-node, to DCMTK storescp and to Orthanc (SQLite index),
# alternating targets within each repetition, every receiver starting empty. TCP_NODELAY=1 on
# both ends. Prints medians and ratios as a Markdown table.
#
# usage: bench/ingest/run.sh [--build DIR] [--reps N] [--slices N]
set -euo pipefail

reps=5
slices=500
source "$(dirname "$0")/../common.sh"
for t in storescu storescp echoscu Orthanc; do command -v "$t" >/dev/null || { echo "missing $t: run scripts/install-deps.sh" >&2; exit 1; }; done

export TCP_NODELAY=1
echo "generating $slices slices..." >&2
"$gen_bin" --out "$work/ct" --slices "$slices" >/dev/null
bytes=$(du -sb "$work/ct" | cut -f1)
for k in 0 1 2 3; do mkdir -p "$work/split/$k"; done
i=0
for f in "$work"/ct/series1/*.dcm; do ln -s "$f" "$work/split/$((i % 4))/"; i=$((i + 1)); done

wait_echo() {  # aet port
  for _ in $(seq 1 200); do
    echoscu -aec "$1" 127.0.0.1 "$2" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "receiver $1 on port $2 did not come up" >&2
  return 1
}

server_pid=""
start_server() {  # target run-name -> sets server_pid, aet, port
  # Every run gets a fresh folder and nothing is deleted until the end. Deleting a run's 500
  # files just before the next run starts would make that run's file creation scan the
  # recently freed inodes (ext4 without a journal skips inodes freed in the last minutes),
  # a cost of the benchmark's clean-up that no receiver pays in service.
  local target=$1 dir="$work/run-$2"
  mkdir -p "$dir"
  port=$(free_port)
  case "$target" in
    node)
      aet=ANNOTNODE
      "$node_bin" serve --data-dir "$dir" --dicom-port "$port" --http-port "$(free_port)" --log-level warn \
        >"$dir/log" 2>&1 &
      ;;
    storescp)
      aet=STORESCP
      # --fork: one process per association, so four associations are served in parallel.
      storescp --fork -aet STORESCP -od "$dir" "$port" >"$dir/log" 2>&1 &
      ;;
    orthanc)
      aet=ORTHANC
      cat >"$dir/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$dir/storage", "IndexDirectory": "$dir/index",
  "DicomAet": "ORTHANC", "DicomPort": $port, "HttpPort": $(free_port), "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomCheckCalledAet": false, "StorageCompression": false,
  "Plugins": [], "DicomThreadsCount": 4 }
JSON
      Orthanc "$dir/orthanc.json" >"$dir/log" 2>&1 &
      ;;
  esac
  server_pid=$!
  pids+=("$server_pid")
  wait_echo "$aet" "$port"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  sync
}

now_ms() { date +%s%3N; }

send() {  # associations -> prints elapsed ms
  local n=$1 t0 t1
  # Every sender reads from the page cache: this machine's cache does not keep the series
  # between runs, and a sender reading from disk would slow whichever target it happened to.
  cat "$work"/ct/series1/*.dcm >/dev/null
  sync
  warm_memory
  t0=$(now_ms)
  if [ "$n" = 1 ]; then
    storescu -aec "$aet" +sd +r 127.0.0.1 "$port" "$work/ct" >/dev/null 2>&1
  else
    local senders=()
    for k in 0 1 2 3; do storescu -aec "$aet" +sd 127.0.0.1 "$port" "$work/split/$k" >/dev/null 2>&1 & senders+=($!); done
    for s in "${senders[@]}"; do wait "$s"; done
  fi
  t1=$(now_ms)
  echo $((t1 - t0))
}

declare -A results
targets=(node storescp orthanc)
for r in $(seq 1 "$reps"); do
  # Rotate the order so no target always runs first (or right after another's write-back).
  offset=$(( (r - 1) % 3 ))
  for j in 0 1 2; do
    target=${targets[$(( (j + offset) % 3 ))]}
    for n in 1 4; do
      start_server "$target" "$target-$n-$r"
      ms=$(send "$n")
      stop_server
      results["$target-$n"]+="$ms "
      echo "rep $r $target assoc=$n ${ms} ms" >&2
    done
  done
  # A durable copy of the same bytes (see floor.mjs), in the same run, as a reference.
  for n in 1 4; do
    sync
    warm_memory
    ms=$(node "$root/bench/ingest/floor.mjs" "$work/ct" "$work/run-floor-$n-$r" "$([ "$n" = 1 ] && echo per-file || echo grouped)")
    sync
    results["floor-$n"]+="$ms "
    echo "rep $r durable copy assoc=$n ${ms} ms" >&2
  done
done


echo
echo "| associations | dicom-node (ms) | storescp (ms) | Orthanc (ms) | durable copy (ms) | storescp / node | Orthanc / node | durable copy / node |"
echo "|---|---|---|---|---|---|---|---|"
for n in 1 4; do
  node=$(echo "${results[node-$n]}" | median)
  scp=$(echo "${results[storescp-$n]}" | median)
  orth=$(echo "${results[orthanc-$n]}" | median)
  floor=$(echo "${results[floor-$n]}" | median)
  printf "| %s | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f |\n" "$n" "$node" "$scp" "$orth" "$floor" \
    "$(echo "$scp / $node" | bc -l)" "$(echo "$orth / $node" | bc -l)" "$(echo "$floor / $node" | bc -l)"
done
echo
echo "Median of the ratios within each repetition (same minute, same disk state):"
echo
echo "| associations | storescp / node | Orthanc / node | durable copy / node |"
echo "|---|---|---|---|"
for n in 1 4; do
  printf "| %s | %s | %s | %s |\n" "$n" \
    "$(two_decimals "$(pairwise_ratios "${results[storescp-$n]}" "${results[node-$n]}" | median)")" \
    "$(two_decimals "$(pairwise_ratios "${results[orthanc-$n]}" "${results[node-$n]}" | median)")" \
    "$(two_decimals "$(pairwise_ratios "${results[floor-$n]}" "${results[node-$n]}" | median)")"
done
echo
echo "Spread of the repetitions (fastest–slowest, ms): a peer that swings more than the node moves the ratios with it."
echo
echo "| associations | dicom-node | storescp | Orthanc | durable copy |"
echo "|---|---|---|---|---|"
for n in 1 4; do
  printf "| %s | %s | %s | %s | %s |\n" "$n" "$(spread "${results[node-$n]}")" "$(spread "${results[storescp-$n]}")" \
    "$(spread "${results[orthanc-$n]}")" "$(spread "${results[floor-$n]}")"
done
echo
echo "$slices slices, $((bytes / 1048576)) MiB, medians of $reps repetitions; ratios > 1 mean dicom-node is faster."
echo "durable copy: the same files copied from memory and made durable, per file (1) or grouped (4): what the disk charges for durability during this run."
