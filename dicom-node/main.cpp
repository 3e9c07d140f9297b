// dicom-node: the standalone annotation node. Thin command-line front end over core/.
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>

#include "MigrateCommand.h"
#include "NodeApp.h"
#include "ReportCommands.h"
#include "SegmentationCommands.h"
#include "UserCommands.h"
#include "config/NodeConfig.h"

namespace {

const char* kUsage = R"(dicom-node - PACS-integrated annotation node

Usage:
  dicom-node serve [options]     receive studies over DICOM and serve the HTTP API
  dicom-node print-config [options]
                                 print the effective configuration as JSON and exit
  dicom-node user add NAME --role ROLE [--data-dir DIR]
                                 create a user (annotator, reviewer, admin, researcher);
                                 prints its API token once, on the last line
  dicom-node user token NAME | user list
  dicom-node migrate --to postgresql://USER@HOST:PORT/DB [--data-dir DIR | --config FILE]
                                 move the node's state (users, audit trail, worklist,
                                 outbox) into an empty PostgreSQL database (migrate --help)
  dicom-node make-sr --annotation A.json --images PATH... --out SR.dcm [options]
                                 write a TID 1500 Measurement Report (make-sr --help)
  dicom-node read-sr SR.dcm      print a Measurement Report as the annotation JSON model
  dicom-node make-seg --segments S.json --images PATH... --out SEG.dcm [options]
                                 write a DICOM Segmentation (make-seg --help)
  dicom-node read-seg SEG.dcm [--runs] [--volume OUT]
                                 print a Segmentation's segments and frames (masks as runs
                                 or as a packed volume)
  dicom-node --help | --version

Options (override the configuration file):
  --config FILE        JSON configuration file (keys below; // comments allowed)
  --data-dir DIR       storage and index folder           [DataDirectory, ./var]
  --database URI       postgresql://... : index and state in PostgreSQL, shared by every
                       node given the same URI and data folder  [Database, none: SQLite]
  --dicom-port N       DICOM port                         [DicomPort, 11112]
  --http-port N        HTTP port                          [HttpPort, 8080]
  --aet AET            our AE title                       [DicomAet, ANNOTNODE]
  --stable-age S       seconds without new instances before a study is stable
                                                          [StableAge, 60]
  --log-level L        trace|debug|info|warn|error        [LogLevel, info]
  --pacs AET@host:port a destination for results (repeatable)  [Pacs, none]

Other configuration keys:
  AllowedCallingAets   list of AE titles allowed to associate (empty: any)     []
  CheckCalledAet       refuse associations addressed to another AE title       true
  MaxAssociations      concurrent associations (one worker thread each)        16
  MaxPduSize           receive PDU size in bytes (4096..131072)                116794
  DimseTimeout         seconds to wait for DIMSE messages                      60
  AcseTimeout          seconds to wait for association messages                30
  DicomTlsCertificate  PEM certificate: the DICOM port then speaks TLS only (BCP 195)
  DicomTlsPrivateKey   PEM private key of that certificate (unencrypted)
  DicomTlsTrustedCertificates  PEM bundle: peers must present a certificate it trusts
  HttpBindAddress      address the HTTP server binds                           0.0.0.0
  HttpThreads          HTTP worker threads                                     4
  MaxHttpBodySize      largest accepted request body in bytes (413 above)      67108864
  HttpsCertificate     PEM certificate chain: the HTTP port then speaks HTTPS only (TLS >= 1.2)
  HttpsPrivateKey      PEM private key of that certificate (unencrypted)
  MinFreeDiskSpaceMB   refuse C-STORE with A700 when less space is free        64
  ProtocolsDirectory   labeling protocols to load                    the shipped ones
  TaskLeaseSeconds     a task claim lapses after this long without a save      1800
  OutboxMaxBackoffSeconds  longest wait between retries to a PACS              300
  PacsTlsTrustedCertificates  PEM bundle: send results over TLS to PACS it trusts
  PacsTlsCertificate, PacsTlsPrivateKey  our client certificate towards the PACS

Environment:
  TCP_NODELAY          set to 1 by default (Nagle off for DICOM sockets); 0 keeps Nagle on

Signals: SIGTERM or SIGINT stop accepting associations, finish the in-flight ones, exit 0.
)";

[[noreturn]] void usageError(const std::string& message) {
  std::cerr << "dicom-node: " << message << "\nRun 'dicom-node --help' for usage.\n";
  std::exit(2);
}

unsigned long parseNumber(const std::string& flag, const std::string& value, unsigned long max) {
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 9) {
    usageError(flag + " needs a number, got '" + value + "'");
  }
  const unsigned long n = std::stoul(value);
  if (n > max) usageError(flag + " must be at most " + std::to_string(max));
  return n;
}

annot::NodeConfig loadConfig(const std::vector<std::string>& args) {
  std::optional<std::string> configFile;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--config") configFile = args[i + 1];
  }
  annot::NodeConfig config = configFile ? annot::NodeConfig::fromFile(*configFile) : annot::NodeConfig{};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (i + 1 >= args.size()) usageError("unknown or incomplete option '" + flag + "'");
    const std::string& value = args[++i];
    if (flag == "--config") continue;
    if (flag == "--data-dir") config.dataDirectory = value;
    else if (flag == "--database") config.database = value;
    else if (flag == "--dicom-port") config.dicomPort = static_cast<uint16_t>(parseNumber(flag, value, 65535));
    else if (flag == "--http-port") config.httpPort = static_cast<uint16_t>(parseNumber(flag, value, 65535));
    else if (flag == "--aet") config.dicomAet = value;
    else if (flag == "--stable-age") config.stableAgeSeconds = static_cast<unsigned>(parseNumber(flag, value, 86400 * 30));
    else if (flag == "--log-level") config.logLevel = value;
    else if (flag == "--pacs") config.pacs.push_back(value);
    else usageError("unknown option '" + flag + "'");
  }
  config.validate();
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  // DCMTK's own logger only for real problems; the commands report in product terms.
  OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "dicom-node " << ANNOT_VERSION << '\n';
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "serve") return annot::node::serve(loadConfig(args));
    if (command == "make-sr") return annot::node::makeSrCommand(args);
    if (command == "user" || command == "migrate") {
      // The user and migrate commands take the node's --data-dir/--config/--database; the rest are theirs.
      std::vector<std::string> own, nodeOptions;
      for (size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "--data-dir" || args[i] == "--config" || args[i] == "--database") && i + 1 < args.size()) {
          nodeOptions.push_back(args[i]);
          nodeOptions.push_back(args[++i]);
        } else {
          own.push_back(args[i]);
        }
      }
      if (command == "migrate") return annot::node::migrateCommand(own, loadConfig(nodeOptions));
      return annot::node::userCommand(own, loadConfig(nodeOptions));
    }
    if (command == "read-sr") return annot::node::readSrCommand(args);
    if (command == "make-seg") return annot::node::makeSegCommand(args);
    if (command == "read-seg") return annot::node::readSegCommand(args);
    if (command == "print-config") {
      std::cout << loadConfig(args).toJsonText() << '\n';
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "dicom-node: " << e.what() << '\n';
    return 1;
  }
  usageError("unknown command '" + command + "'");
}
