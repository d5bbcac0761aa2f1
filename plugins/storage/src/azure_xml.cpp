#include "azure_xml.hpp"

#include <array>
#include <cctype>

namespace triage::storage::azure {
namespace {}  // namespace

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto end = s.find(';', i);
    const std::string_view entity =
        end == std::string_view::npos ? std::string_view() : s.substr(i + 1, end - i - 1);
    if (entity == "amp")
      out += '&';
    else if (entity == "lt")
      out += '<';
    else if (entity == "gt")
      out += '>';
    else if (entity == "quot")
      out += '"';
    else if (entity == "apos")
      out += '\'';
    else {
      out += s[i];
      continue;
    }
    i = end;
  }
  return out;
}

std::optional<XmlElement> xml_find(std::string_view xml, std::string_view name, std::size_t from) {
  const std::string open = "<" + std::string(name) + ">";
  const std::string close = "</" + std::string(name) + ">";
  if (from > xml.size()) return std::nullopt;
  const auto begin = xml.find(open, from);
  if (begin == std::string_view::npos) return std::nullopt;
  const auto text_at = begin + open.size();
  const auto end = xml.find(close, text_at);
  if (end == std::string_view::npos) return std::nullopt;
  return XmlElement{xml.substr(text_at, end - text_at), end + close.size()};
}

std::string xml_text(std::string_view xml, std::string_view name) {
  const auto e = xml_find(xml, name);
  return e ? xml_unescape(e->text) : std::string();
}

}  // namespace triage::storage::azure
