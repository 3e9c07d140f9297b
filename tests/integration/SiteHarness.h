#pragma once
// One deployment of the product as an HTTP client sees it: the node, or the plugin under
// /annotation inside Orthanc. Tests that must hold on both are written once against a Site.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/TestSupport.h"

namespace annot::test {

struct Site {
  std::string name;
  uint16_t httpPort = 0;
  std::string root;  // "" for the node, "/annotation" for the plugin
  std::string adminToken;
  std::string stateDatabase;  // the product's state.sqlite of this deployment

  HttpResult call(const std::string& token, const std::string& method, const std::string& path, const std::string& body = "") const {
    return httpRequest(httpPort, method, root + path, body, {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  }
  std::string addUser(const std::string& user, const std::string& role) const {
    const HttpResult r = call(adminToken, "POST", "/api/v1/users", nlohmann::json{{"name", user}, {"role", role}}.dump());
    EXPECT_EQ(r.status, 201) << name << ": " << r.body;
    return nlohmann::json::parse(r.body).value("token", "");
  }
  // The deployment's own route table (GET /api/v1/routes).
  nlohmann::json routes() const {
    const HttpResult table = call(adminToken, "GET", "/api/v1/routes");
    EXPECT_EQ(table.status, 200) << name << ": " << table.body;
    return table.status == 200 ? nlohmann::json::parse(table.body)["routes"] : nlohmann::json::array();
  }
};

}  // namespace annot::test
