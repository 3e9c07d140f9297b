#include "http/HttpMessage.h"

#include <cctype>
#include <nlohmann/json.hpp>

namespace annot {

std::string HttpRequest::queryValue(const std::string& key, const std::string& fallback) const {
  const auto it = query.find(key);
  return it == query.end() ? fallback : it->second;
}

std::string HttpRequest::header(const std::string& lowerCaseName) const {
  const auto it = headers.find(lowerCaseName);
  return it == headers.end() ? std::string() : it->second;
}

std::string percentEncode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string percentDecode(const std::string& text, bool plusAsSpace, bool& ok) {
  auto hexValue = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        ok = false;
        return {};
      }
      const int hi = hexValue(text[i + 1]);
      const int lo = hexValue(text[i + 2]);
      if (hi < 0 || lo < 0) {
        ok = false;
        return {};
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plusAsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool parseRequestTarget(const std::string& target, std::string& path,
                        std::multimap<std::string, std::string>& query) {
  bool ok = true;
  const auto mark = target.find('?');
  path = percentDecode(target.substr(0, mark), false, ok);
  if (!ok) return false;
  if (mark == std::string::npos) return true;
  const std::string qs = target.substr(mark + 1);
  size_t start = 0;
  while (start <= qs.size()) {
    const size_t end = std::min(qs.find('&', start), qs.size());
    const std::string pair = qs.substr(start, end - start);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      const std::string key = percentDecode(pair.substr(0, eq), true, ok);
      const std::string value = eq == std::string::npos ? "" : percentDecode(pair.substr(eq + 1), true, ok);
      if (!ok) return false;
      query.emplace(key, value);
    }
    start = end + 1;
  }
  return true;
}

HttpResponse errorResponse(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", {{"status", status}, {"message", message}}}}.dump();
  return r;
}

std::string encodeQuery(const std::multimap<std::string, std::string>& query) {
  std::string out;
  for (const auto& [key, value] : query) out += (out.empty() ? "?" : "&") + percentEncode(key) + "=" + percentEncode(value);
  return out;
}

HttpResponse redirect(const std::string& location, bool noStore) {
  HttpResponse r;
  r.status = 302;
  r.contentType = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", location);
  if (noStore) r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace annot
