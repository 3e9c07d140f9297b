#pragma once
// Wires core's pieces for the standalone node: file store + SQLite catalog + ingest pipeline +
// stability monitor + API, behind a DICOM SCP and an HTTP server.
#include "config/NodeConfig.h"

namespace annot::node {
// Runs until SIGTERM/SIGINT; returns the process exit code.
int serve(const NodeConfig& config);
}  // namespace annot::node
