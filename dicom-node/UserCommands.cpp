#include "UserCommands.h"

#include <iostream>
#include <optional>

#include "audit/AuditLog.h"
#include "auth/AccessAdministration.h"
#include "auth/UserStore.h"
#include "common/Clock.h"
#include "state/StateDatabase.h"
#include "storage/FileSync.h"
#include "worklist/Worklist.h"

namespace annot::node {
namespace {
const char* kUsage =
    "usage: dicom-node user add NAME --role annotator|reviewer|admin|researcher [--days N] [--data-dir DIR | --config FILE]\n"
    "       dicom-node user token NAME [--days N]       issue another token (N days, 0: never expires;\n"
    "                                                    default TokenLifetimeDays)\n"
    "       dicom-node user list                        users, and each token's id, creation, last use, expiry\n"
    "       dicom-node user disable NAME                end the user's access now; claimed tasks return to the pool\n"
    "       dicom-node user enable NAME\n"
    "       dicom-node user revoke NAME [--token ID]    revoke all of the user's tokens, or one\n"
    "A running node sees every change on its next request. A token is printed once, on the last\n"
    "line; only a salted hash is kept.\n";

// A whole number of days, 0 to 3650, or nothing when the text is not one.
std::optional<unsigned> days(const std::string& text) {
  if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const unsigned n = static_cast<unsigned>(std::stoul(text));
  return n <= 3650 ? std::optional<unsigned>(n) : std::nullopt;
}

void printUsers(UserStore& users) {
  for (const auto& u : users.list()) {
    std::cout << u.name << '\t' << roleName(u.role) << (u.disabled ? "\tdisabled" : "\tenabled") << '\n';
    const int64_t now = nowMillis();
    for (const auto& t : users.tokensOf(u.name)) {
      const char* state = t.revoked ? "revoked" : (t.expiresMs != 0 && t.expiresMs <= now) ? "expired" : "active";
      std::cout << "  token " << t.id << '\t' << state << "\tcreated " << readableUtc(t.createdMs) << "\tlast used "
                << (t.lastUsedMs ? readableUtc(t.lastUsedMs) : "never") << "\texpires " << readableUtc(t.expiresMs) << '\n';
    }
  }
}
}  // namespace

int userCommand(const std::vector<std::string>& args, const NodeConfig& config) {
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string& action = args[0];
  std::string name, role, daysText, tokenText;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--role" && i + 1 < args.size()) role = args[++i];
    else if (args[i] == "--days" && i + 1 < args.size()) daysText = args[++i];
    else if (args[i] == "--token" && i + 1 < args.size()) tokenText = args[++i];
    else if (args[i].rfind("--", 0) != 0 && name.empty()) name = args[i];
    else {
      std::cerr << "dicom-node user: unexpected '" << args[i] << "'\n" << kUsage;
      return 2;
    }
  }
  const std::optional<unsigned> lifetime = daysText.empty() ? std::nullopt : days(daysText);
  if (!daysText.empty() && !lifetime) {
    std::cerr << "dicom-node user: --days must be a whole number from 0 (never expires) to 3650\n";
    return 2;
  }
  if (!tokenText.empty() && (tokenText.size() > 15 || tokenText.find_first_not_of("0123456789") != std::string::npos)) {
    std::cerr << "dicom-node user revoke: --token takes the token's id, a number ('user list' shows them)\n";
    return 2;
  }
  try {
    filesync::ensureDirectory(config.dataDirectory);
    StateDatabase state(config.stateDatabase());
    UserStore users(state, config.tokenLifetimeDays);
    AuditLog audit(state);
    AccessAdministration access(users, audit, [&state](const std::string& user) { return Worklist::returnClaimsToPool(state, user); });
    const Actor cli{"", "", "cli"};
    if (action == "list" && name.empty()) {
      printUsers(users);
      return 0;
    }
    if (name.empty()) {
      std::cerr << kUsage;
      return 2;
    }
    if (action == "add") {
      const auto parsed = roleFromName(role);
      if (!parsed) {
        std::cerr << "dicom-node user add: --role must be annotator, reviewer, admin or researcher\n";
        return 2;
      }
      const IssuedToken issued = users.addUser(name, *parsed, lifetime);
      audit.record({"", "", "create-user", "user", name, "success",
                    std::string("role ") + role + ", token " + std::to_string(issued.info.id) + " expires " + readableUtc(issued.info.expiresMs), "cli"});
      std::cout << "user " << name << " (" << role << ") created; token " << issued.info.id << ", expires "
                << readableUtc(issued.info.expiresMs) << "; API token:\n" << issued.token << '\n';
      return 0;
    }
    if (action == "token") {
      const IssuedToken issued = access.issue(name, lifetime, cli);
      std::cout << "new API token " << issued.info.id << " for " << name << ", expires " << readableUtc(issued.info.expiresMs) << ":\n"
                << issued.token << '\n';
      return 0;
    }
    if (action == "disable") {
      const auto done = access.disable(name, cli);
      std::cout << "user " << name << (done.changed ? " disabled" : " was already disabled") << "; "
                << done.releasedTasks.size() << " claimed task(s) returned to the pool\n";
      return 0;
    }
    if (action == "enable") {
      std::cout << "user " << name << (access.enable(name, cli) ? " enabled" : " was already enabled") << '\n';
      return 0;
    }
    if (action == "revoke") {
      if (!tokenText.empty()) {
        access.revoke(name, std::stoll(tokenText), cli);
        std::cout << "token " << tokenText << " of " << name << " revoked\n";
      } else {
        std::cout << access.revokeAll(name, cli) << " token(s) of " << name << " revoked\n";
      }
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
