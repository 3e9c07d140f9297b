#include "DirectoryHarness.h"

#include <csignal>
#include <filesystem>
#include <map>
#include <vector>

namespace annot::test {
using nlohmann::json;

RunningDirectory::RunningDirectory(const std::string& dir) : dir_(dir), port_(freePort()) {
  std::filesystem::create_directories(dir_ + "/db");
  writeFile(dir_ + "/slapd.conf",
            "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n"
            "include /etc/ldap/schema/inetorgperson.schema\npidfile " + dir_ + "/slapd.pid\n"
            "modulepath /usr/lib/ldap\nmoduleload back_mdb\ndatabase mdb\nmaxsize 10485760\n"
            "suffix \"dc=hospital,dc=test\"\nrootdn \"cn=admin,dc=hospital,dc=test\"\nrootpw root-" + std::to_string(port_) + "\n"
            "directory " + dir_ + "/db\n"
            "access to attrs=userPassword by anonymous auth by self read by * none\n"
            "access to * by users read by * none\n");
  std::string ldif =
      "dn: dc=hospital,dc=test\nobjectClass: dcObject\nobjectClass: organization\no: Hospital\ndc: hospital\n\n"
      "dn: ou=people,dc=hospital,dc=test\nobjectClass: organizationalUnit\nou: people\n\n"
      "dn: ou=groups,dc=hospital,dc=test\nobjectClass: organizationalUnit\nou: groups\n\n";
  for (const char* user : {"rad1", "rev1", "adm1", "visitor"}) {
    ldif += std::string("dn: uid=") + user + ",ou=people,dc=hospital,dc=test\nobjectClass: inetOrgPerson\nuid: " + user +
            "\ncn: " + user + "\nsn: " + user + "\nuserPassword: " + password(user) + "\n\n";
  }
  const std::map<std::string, std::vector<std::string>> groups = {
      {"radiologists", {"rad1", "rev1"}}, {"qa-reviewers", {"rev1"}}, {"labeling-admins", {"adm1"}}, {"cafeteria", {"visitor"}}};
  for (const auto& [group, members] : groups) {
    ldif += "dn: cn=" + group + ",ou=groups,dc=hospital,dc=test\nobjectClass: groupOfNames\ncn: " + group + "\n";
    for (const auto& m : members) ldif += "member: uid=" + m + ",ou=people,dc=hospital,dc=test\n";
    ldif += "\n";
  }
  writeFile(dir_ + "/data.ldif", ldif);
  const CommandResult loaded = runCommand({"slapadd", "-f", dir_ + "/slapd.conf", "-l", dir_ + "/data.ldif"});
  if (loaded.exitCode != 0) throw std::runtime_error("slapadd failed: " + loaded.output);
  start();
}

void RunningDirectory::start() {
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"slapd", "-f", dir_ + "/slapd.conf", "-h", url() + "/", "-d", "0"},
                                            dir_ + "/slapd.log");
  const bool up = eventually([&] {
    return runCommand({"ldapwhoami", "-x", "-H", url(), "-D", "uid=rad1,ou=people,dc=hospital,dc=test", "-w", password("rad1")}).exitCode == 0;
  });
  if (!up) throw std::runtime_error("slapd did not start:\n" + readFile(dir_ + "/slapd.log"));
}

void RunningDirectory::stop() {
  if (process_) {
    process_->signal(SIGTERM);
    process_->wait();
    process_.reset();
  }
}

json RunningDirectory::settings() const {
  return {{"Url", url()},
          {"UserDnTemplate", "uid={user},ou=people,dc=hospital,dc=test"},
          {"GroupBase", "ou=groups,dc=hospital,dc=test"},
          {"Roles", {{"cn=radiologists,ou=groups,dc=hospital,dc=test", "annotator"},
                     {"CN=QA-Reviewers,ou=groups,dc=hospital,dc=test", "reviewer"},
                     {"cn=labeling-admins,ou=groups,dc=hospital,dc=test", "admin"}}}};
}


}  // namespace annot::test
