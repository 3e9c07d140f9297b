#include "UserCommands.h"

#include <iostream>

#include "audit/AuditLog.h"
#include "auth/UserStore.h"
#include "state/StateDatabase.h"
#include "storage/FileSync.h"

namespace annot::node {
namespace {
const char* kUsage =
    "usage: dicom-node user add NAME --role annotator|reviewer|admin|researcher [--data-dir DIR | --config FILE]\n"
    "       dicom-node user token NAME [--data-dir DIR | --config FILE]   issue another token\n"
    "       dicom-node user list [--data-dir DIR | --config FILE]\n"
    "The token is printed once, on the last line; only a salted hash is kept.\n";
}  // namespace

int userCommand(const std::vector<std::string>& args, const NodeConfig& config) {
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string& action = args[0];
  std::string name, role;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--role" && i + 1 < args.size()) role = args[++i];
    else if (args[i].rfind("--", 0) != 0 && name.empty()) name = args[i];
    else {
      std::cerr << "dicom-node user: unexpected '" << args[i] << "'\n" << kUsage;
      return 2;
    }
  }
  try {
    filesync::ensureDirectory(config.dataDirectory);
    StateDatabase state(config.dataDirectory + "/state.sqlite");
    UserStore users(state);
    AuditLog audit(state);
    if (action == "list" && name.empty()) {
      for (const auto& u : users.list()) std::cout << u.name << '\t' << roleName(u.role) << (u.disabled ? "\tdisabled" : "") << '\n';
      return 0;
    }
    if (action == "add" && !name.empty()) {
      const auto parsed = roleFromName(role);
      if (!parsed) {
        std::cerr << "dicom-node user add: --role must be annotator, reviewer, admin or researcher\n";
        return 2;
      }
      const IssuedToken issued = users.addUser(name, *parsed);
      audit.record({"", "", "create-user", "user", name, "success", std::string("role ") + role, "cli"});
      std::cout << "user " << name << " (" << role << ") created; API token:\n" << issued.token << '\n';
      return 0;
    }
    if (action == "token" && !name.empty()) {
      const IssuedToken issued = users.issueToken(name);
      audit.record({"", "", "issue-token", "user", name, "success", "", "cli"});
      std::cout << "new API token for " << name << ":\n" << issued.token << '\n';
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "dicom-node user: " << e.what() << '\n';
    return 1;
  }
  std::cerr << kUsage;
  return 2;
}

}  // namespace annot::node
