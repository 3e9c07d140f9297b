#include <gtest/gtest.h>

#include "http/HttpMessage.h"

TEST(RequestTarget, SplitsAndDecodesPathAndQuery) {
  std::string path;
  std::multimap<std::string, std::string> query;
  ASSERT_TRUE(annot::parseRequestTarget("/api/v1/studies?PatientID=A%20B&Modality=CT&x=1+2&flag", path, query));
  EXPECT_EQ(path, "/api/v1/studies");
  EXPECT_EQ(query.find("PatientID")->second, "A B");
  EXPECT_EQ(query.find("Modality")->second, "CT");
  EXPECT_EQ(query.find("x")->second, "1 2");
  EXPECT_EQ(query.find("flag")->second, "");
}

TEST(RequestTarget, RejectsBrokenPercentEncoding) {
  std::string path;
  std::multimap<std::string, std::string> query;
  EXPECT_FALSE(annot::parseRequestTarget("/a%2", path, query));
  EXPECT_FALSE(annot::parseRequestTarget("/a?x=%zz", path, query));
  EXPECT_FALSE(annot::parseRequestTarget("/a?x=%", path, query));
}

TEST(ErrorResponse, IsJsonWithStatusAndMessage) {
  const auto r = annot::errorResponse(422, "bad thing");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body, R"({"error":{"message":"bad thing","status":422}})");
}
