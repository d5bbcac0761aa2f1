// The human view: failures first with their evidence and remediation, wrapped
// to the terminal, with every plugin-supplied string escaped so that none can
// forge a row.
#include <algorithm>
#include <cstdio>

#include "triage/core/report.hpp"
#include "triage/core/text_format.hpp"

namespace triage::core {

namespace {

using Json = nlohmann::ordered_json;

// The decorations, in UTF-8 or in ASCII for a non-UTF-8 locale.
struct Glyphs {
  std::string_view dot, dash, cross, bang, info, up, arrow;
};
constexpr Glyphs kUtf8{"·", "—", "✗", "!", "i", "▲", "→"};
constexpr Glyphs kAscii{"-", "-", "x", "!", "i", "^", "->"};

class Writer {
 public:
  explicit Writer(const RenderOptions& options)
      : options_(options), glyphs_(options.utf8 ? kUtf8 : kAscii) {}

  const Glyphs& glyphs() const { return glyphs_; }

  // Untrusted text, safe for one line of this terminal.
  std::string safe(std::string_view text) const {
    return options_.utf8 ? escape_control(text) : escape_control_ascii(text);
  }
  std::string field(const Json& value) const {
    return value.is_string() ? safe(std::string_view(value.get<std::string>())) : std::string();
  }

  std::string paint(std::string_view code, std::string_view text) const {
    if (!options_.color) return std::string(text);
    return "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m";
  }

  // Appends `first` (already painted, `first_width` columns wide) and then
  // `text`, word-wrapped at the width, continuation lines indented by
  // `indent` columns. `tail` (painted, `tail_width` wide) ends the last line.
  void row(std::string& out, const std::string& first, std::size_t first_width,
           const std::string& text, std::size_t indent, std::string_view code = {},
           const std::string& tail = {}, std::size_t tail_width = 0) const {
    const std::size_t width = std::max<std::size_t>(options_.width, 40);
    // Aligned under the text when there is room; under the id column when
    // the columns before it take more than half the line.
    if (indent > width / 2) indent = 10;
    std::size_t column = first_width;
    std::string line = first;
    std::string painted_words;
    auto flush_words = [&] {
      if (!painted_words.empty()) line += code.empty() ? painted_words : paint(code, painted_words);
      painted_words.clear();
    };
    std::size_t start = 0;
    bool first_word = true;
    while (start <= text.size()) {
      std::size_t end = text.find(' ', start);
      if (end == std::string::npos) end = text.size();
      const std::string word = text.substr(start, end - start);
      const std::size_t w = display_width(word);
      const std::size_t need = (first_word ? 0 : 1) + w;
      if (!first_word && column + need > width) {
        flush_words();
        out += line + "\n";
        line = std::string(indent, ' ');
        column = indent;
        painted_words = word;
        column += w;
      } else {
        painted_words += (first_word ? "" : " ") + word;
        column += need;
      }
      first_word = false;
      start = end + 1;
    }
    flush_words();
    if (!tail.empty()) {
      if (column + tail_width > width && column > indent) {
        out += line + "\n";
        line = std::string(indent, ' ');
      }
      line += tail;
    }
    out += line + "\n";
  }

 private:
  RenderOptions options_;
  Glyphs glyphs_;
};

std::string_view colour_of(std::string_view status) {
  if (status == "ok") return "32";
  if (status == "warning") return "33";
  if (status == "critical") return "1;31";
  if (status == "unknown") return "35";
  return "2";
}

// Failures first, the worst first.
int rank(std::string_view status) {
  if (status == "critical") return 0;
  if (status == "warning") return 1;
  if (status == "unknown") return 2;
  if (status == "ok") return 3;
  return 4;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

std::string plural(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

std::string format_ms(double ms) {
  return people_quantity(ms, "ms");
}

}  // namespace

std::string render_text(const Json& report, const RenderOptions& options) {
  const Writer w(options);
  const Glyphs& g = w.glyphs();
  std::vector<const Json*> checks;
  for (const auto& c : report.at("checks")) checks.push_back(&c);
  std::stable_sort(checks.begin(), checks.end(), [](const Json* a, const Json* b) {
    return rank(a->at("status").get<std::string>()) < rank(b->at("status").get<std::string>());
  });
  std::size_t id_width = 2, type_width = 4;
  for (const auto* c : checks) {
    id_width = std::max(id_width, display_width(w.field(c->at("id"))));
    type_width = std::max(type_width, display_width(w.field(c->at("plugin"))) + 1 +
                                          display_width(w.field(c->at("type"))));
  }
  id_width = std::min<std::size_t>(id_width, 40);
  type_width = std::min<std::size_t>(type_width, 32);

  const auto& run = report.at("run");
  std::string out;
  out += w.paint("1", "triage") + " " + w.field(run.at("triage_version")) + " " +
         std::string(g.dot) + " host " + w.field(run.at("host")) + " " + std::string(g.dot) + " " +
         plural(checks.size(), "check") + " in " + format_ms(run.at("duration_ms").get<double>()) +
         "\n\n";

  const std::size_t summary_column = 9 + 1 + id_width + 2 + type_width + 2;
  for (const auto* c : checks) {
    const auto status = c->at("status").get<std::string>();
    const bool failing = status != "ok" && status != "skipped";
    const std::string id = w.field(c->at("id"));
    const std::string kind = w.field(c->at("plugin")) + "." + w.field(c->at("type"));
    const std::string head = w.paint(colour_of(status), pad(upper(status), 9)) + " " +
                             pad(id, id_width) + "  " + pad(kind, type_width) + "  ";
    const std::size_t head_width = 9 + 1 + std::max(display_width(id), id_width) + 2 +
                                   std::max(display_width(kind), type_width) + 2;
    std::string tail;
    std::size_t tail_width = 0;
    if (status != "skipped") {
      const std::string d = "(" + format_ms(c->at("duration_ms").get<double>()) + ")";
      tail = "  " + w.paint("2", d);
      tail_width = 2 + display_width(d);
    }
    w.row(out, head, head_width, w.field(c->at("summary")), summary_column, {}, tail, tail_width);
    if (!failing) continue;
    for (const auto& m : c->at("metrics")) {
      const auto ms = m.at("status").get<std::string>();
      if (ms == "ok") continue;
      const auto& range = m.at(ms == "critical" ? "critical" : "warning");
      const std::string unit = m.value("unit", std::string());
      std::string text = w.field(m.at("name")) + " = " +
                         w.safe(people_quantity(m.at("value").get<double>(), unit)) + "  (" + ms +
                         " threshold " + (range.is_string() ? w.field(range) : "?") + ")";
      w.row(out, "          " + w.paint(colour_of(ms), std::string(g.up) + " "), 12, text, 12);
      const auto fix = m.find("remediation");
      if (fix != m.end() && fix->is_string() && !fix->get<std::string>().empty())
        w.row(out, "            ", 12, std::string(g.arrow) + " " + w.field(*fix), 14, "36");
    }
    for (const auto& f : c->at("findings")) {
      const auto sev = f.at("severity").get<std::string>();
      const std::string_view mark = sev == "critical"  ? g.cross
                                    : sev == "warning" ? g.bang
                                                       : g.info;
      std::string text = w.field(f.at("title"));
      const std::string detail = w.field(f.at("detail"));
      if (!detail.empty()) text += ": " + detail;
      w.row(out,
            "          " +
                w.paint(colour_of(sev == "info" ? "skipped" : sev), std::string(mark) + " "),
            10 + display_width(mark) + 1, text, 12);
      const std::string fix = w.field(f.at("remediation"));
      if (!fix.empty()) w.row(out, "            ", 12, std::string(g.arrow) + " " + fix, 14, "36");
    }
    if (c->contains("error") && c->at("error").is_string())
      w.row(out, "          error: ", 17, w.field(c->at("error")), 12);
  }

  const auto& summary = report.at("summary");
  std::string counts;
  for (const char* s : {"critical", "warning", "unknown", "ok", "skipped"}) {
    const int n = summary.at("counts").at(s).get<int>();
    if (n > 0) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + s;
  }
  const auto worst = summary.at("status").get<std::string>();
  std::string text = counts.empty() ? "no checks" : counts;
  const auto message = summary.find("message");
  if (message != summary.end() && message->is_string()) text = w.field(*message) + "; " + text;
  out += "\n";
  w.row(out, w.paint(colour_of(worst), upper(worst)) + " " + std::string(g.dash) + " ",
        upper(worst).size() + 3, text, 4);
  return out;
}

}  // namespace triage::core
