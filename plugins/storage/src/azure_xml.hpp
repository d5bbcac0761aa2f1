// The little XML the Blob REST API answers with (error bodies, List Blobs
// pages, Get Blob Service Stats), read without an XML library: the service's
// documents are flat and element names are known, so finding an element's
// text is enough. Bodies are untrusted: every function is total (no throw)
// and returns "" or nullopt for anything it cannot read.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "azure_time.hpp"

namespace triage::storage::azure {

// &amp; &lt; &gt; &quot; &apos; decoded; anything else kept as is.
std::string xml_unescape(std::string_view s);

// The position just after "<name>" at or after `from`, and the text up to
// the matching "</name>"; nullopt when either is missing. A self-closing
// "<name />" counts as absent.
struct XmlElement {
  std::string_view text;  // raw (still escaped)
  std::size_t end = 0;    // offset just past "</name>"
};
std::optional<XmlElement> xml_find(std::string_view xml, std::string_view name,
                                   std::size_t from = 0);

// The unescaped text of the first <name> element, "" when absent or empty.
std::string xml_text(std::string_view xml, std::string_view name);

}  // namespace triage::storage::azure
