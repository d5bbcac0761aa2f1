// The replay server of documented vendor responses (see replay_server.hpp).
#include "replay_server.hpp"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace triage::test {

std::filesystem::path replay_fixture(const std::string& name) {
  return std::filesystem::path(TRIAGE_REPLAYS_DIR) / (name + ".json");
}

namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

nlohmann::json load(const std::string& name) {
  const auto path = replay_fixture(name);
  std::ifstream in(path);
  if (!in) throw std::runtime_error("replay fixture not found: " + path.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error("replay fixture " + path.string() + ": " + e.what());
  }
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string format_time(Clock::time_point t, const char* format) {
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// Replaces the {{...}} placeholders of replay_server.hpp in text. In a JSON
// body ("json" in the fixture) a time in numbers that fills a whole string,
// "{{now_ms-60}}", becomes the bare number, as the vendors send it.
std::string expand(const std::string& text, const std::string& base_url, bool json_body) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (true) {
    const auto open = text.find("{{", at);
    if (open == std::string::npos) break;
    const auto close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(text, at, open - at);
    const std::string token = text.substr(open + 2, close - open - 2);
    at = close + 2;
    if (token == "base_url") {
      out += base_url;
      continue;
    }
    std::string name = token;
    long long offset_s = 0;
    if (const auto sign = token.find_first_of("+-"); sign != std::string::npos) {
      name = token.substr(0, sign);
      offset_s = std::stoll(token.substr(sign + 1));
      if (token[sign] == '-') offset_s = -offset_s;
    }
    const auto t = Clock::now() + std::chrono::seconds(offset_s);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const bool numeric = name == "now_ms" || name == "now_s";
    if (json_body && numeric && !out.empty() && out.back() == '"' && at < text.size() &&
        text[at] == '"') {
      out.pop_back();
      ++at;
      out += std::to_string(name == "now_ms" ? ms : ms / 1000);
    } else if (name == "now_ms") {
      out += std::to_string(ms);
    } else if (name == "now_s") {
      out += std::to_string(ms / 1000);
    } else if (name == "rfc3339") {
      out += format_time(t, "%Y-%m-%dT%H:%M:%SZ");
    } else if (name == "rfc1123") {
      out += format_time(t, "%a, %d %b %Y %H:%M:%S GMT");
    } else {
      throw std::runtime_error("replay fixture: unknown placeholder {{" + token + "}}");
    }
  }
  out.append(text, at, std::string::npos);
  return out;
}

struct Route {
  json spec;
  std::size_t served = 0;  // responses given so far
};

bool matches(const json& spec, const httplib::Request& req) {
  if (lower(spec.value("method", std::string("GET"))) != lower(req.method)) return false;
  if (spec.value("path", std::string()) != req.path) return false;
  if (const auto q = spec.find("query"); q != spec.end()) {
    for (const auto& [name, want] : q->items()) {
      const bool present = req.has_param(name);
      if (want.is_null()) {
        if (present) return false;
      } else if (!present || req.get_param_value(name) != want.get<std::string>()) {
        return false;
      }
    }
  }
  if (const auto h = spec.find("headers"); h != spec.end()) {
    for (const auto& [name, want] : h->items())
      if (!req.has_header(name) || req.get_header_value(name) != want.get<std::string>())
        return false;
  }
  return true;
}

}  // namespace

struct ReplayServer::Impl {
  TempDir dir;
  Certs certs;
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  std::uint16_t port = 0;

  mutable std::mutex mutex;
  std::condition_variable stopping_cv;
  bool stopping = false;
  std::vector<Route> routes;
  std::vector<Request> received;

  void handle(const httplib::Request& req, httplib::Response& res) {
    Request record;
    record.method = req.method;
    record.path = req.path;
    for (const auto& [k, v] : req.params) record.query.emplace(k, v);
    for (const auto& [k, v] : req.headers) record.headers.emplace(lower(k), v);
    record.body = req.body;

    json response;
    {
      std::lock_guard lock(mutex);
      received.push_back(std::move(record));
      for (auto& route : routes) {
        if (!matches(route.spec, req)) continue;
        const json& list = route.spec.at("responses");
        response = list.at(std::min(route.served, list.size() - 1));
        ++route.served;
        break;
      }
    }
    if (response.is_null()) {
      res.status = 404;
      res.set_content(json{{"replay_error", "no route for " + req.method + " " + req.path}}.dump(),
                      "application/json");
      return;
    }
    const bool hang = response.value("hang", false);
    const auto delay = std::chrono::milliseconds(response.value("delay_ms", 0));
    if (hang || delay.count() > 0) {
      std::unique_lock lock(mutex);
      // A hang lasts until the server stops; a delay ends early only then too.
      if (hang)
        stopping_cv.wait(lock, [&] { return stopping; });
      else
        stopping_cv.wait_for(lock, delay, [&] { return stopping; });
      if (stopping && hang) return;
    }
    res.status = response.value("status", 200);
    std::string content_type = "text/plain";
    std::string body;
    const auto j = response.find("json");
    if (j != response.end()) {
      content_type = "application/json";
      body = j->dump();
    } else {
      body = response.value("body", std::string());
    }
    if (const auto h = response.find("headers"); h != response.end()) {
      for (const auto& [name, value] : h->items()) {
        if (lower(name) == "content-type")
          content_type = value.get<std::string>();
        else
          res.set_header(name.c_str(), value.get<std::string>());
      }
    }
    res.set_content(expand(body, "https://localhost:" + std::to_string(port), j != response.end()),
                    content_type);
  }
};

namespace {
void add_routes(std::vector<Route>& routes, const json& list, const std::string& what) {
  if (!list.is_array()) throw std::runtime_error("replay fixture: " + what + " is not a list");
  for (const auto& spec : list) {
    if (!spec.contains("path") || !spec.contains("responses") || !spec["responses"].is_array() ||
        spec["responses"].empty())
      throw std::runtime_error("replay fixture: a route of " + what +
                               " needs a path and a non-empty responses list: " + spec.dump());
    routes.push_back({spec, 0});
  }
}
}  // namespace

ReplayServer::ReplayServer(const std::string& name, const std::string& scenario)
    : ReplayServer(load(name), scenario) {}

ReplayServer::ReplayServer(const nlohmann::json& fixture, const std::string& scenario)
    : impl_(std::make_unique<Impl>()) {
  if (!scenario.empty()) {
    const auto s = fixture.find("scenarios");
    if (s == fixture.end() || !s->contains(scenario))
      throw std::runtime_error("replay fixture has no scenario '" + scenario + "'");
    add_routes(impl_->routes, s->at(scenario), "scenario " + scenario);
  }
  if (fixture.contains("routes")) add_routes(impl_->routes, fixture.at("routes"), "routes");

  impl_->certs = make_certs(impl_->dir.path());
  impl_->server = std::make_unique<httplib::SSLServer>(impl_->certs.valid_cert.c_str(),
                                                       impl_->certs.valid_key.c_str());
  if (!impl_->server->is_valid()) throw std::runtime_error("replay server: TLS setup failed");
  auto& server = *impl_->server;
  // Enough workers that hanging requests never starve the others.
  server.new_task_queue = [] { return new httplib::ThreadPool(16); };
  server.set_keep_alive_timeout(1);
  Impl* impl = impl_.get();
  const auto handler = [impl](const httplib::Request& req, httplib::Response& res) {
    impl->handle(req, res);
  };
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Patch(".*", handler);
  server.Delete(".*", handler);
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) throw std::runtime_error("replay server: cannot bind a port on 127.0.0.1");
  impl_->port = static_cast<std::uint16_t>(port);
  impl_->thread = std::thread([impl] { impl->server->listen_after_bind(); });
  // bind_to_any_port already listens, so a connection would succeed before
  // listen_after_bind runs; a stop() before then is a no-op and the
  // destructor would join a thread blocked in accept() for ever. Wait for
  // the server's own word (a readiness wait; the listening socket exists, so
  // nothing but scheduling stands between here and there).
  while (!impl_->server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

ReplayServer::~ReplayServer() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->stopping_cv.notify_all();
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t ReplayServer::port() const {
  return impl_->port;
}

std::string ReplayServer::url(std::string_view path) const {
  return "https://localhost:" + std::to_string(impl_->port) + std::string(path);
}

const Certs& ReplayServer::certs() const {
  return impl_->certs;
}

std::vector<ReplayServer::Request> ReplayServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

}  // namespace triage::test
