// The framing of the plugin-host protocol: each message is a 4-byte
// little-endian payload length, a 1-byte message type, then the payload
// (JSON text). The decoder takes bytes in any chunking and refuses frames
// larger than a limit, so a confused or hostile peer cannot make the core
// allocate without bound.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace triage::core {

class FrameError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Frame {
  std::uint8_t type = 0;
  std::string payload;
};

// Appends one encoded frame to out.
void encode_frame(std::uint8_t type, std::string_view payload, std::string& out);

class FrameDecoder {
 public:
  static constexpr std::uint32_t kDefaultMaxPayload = 16u << 20;
  explicit FrameDecoder(std::uint32_t max_payload = kDefaultMaxPayload)
      : max_payload_(max_payload) {}

  // Adds received bytes.
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, if one is buffered. Throws FrameError for a
  // frame over the limit; the decoder is unusable afterwards.
  std::optional<Frame> next();
  // Bytes received but not yet returned as frames.
  std::size_t pending() const { return buffer_.size() - offset_; }

 private:
  std::uint32_t max_payload_;
  std::string buffer_;
  std::size_t offset_ = 0;
};

}  // namespace triage::core
