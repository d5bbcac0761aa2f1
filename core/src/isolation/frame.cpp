#include "triage/core/frame.hpp"

namespace triage::core {

void encode_frame(std::uint8_t type, std::string_view payload, std::string& out) {
  if (payload.size() > 0xFFFFFFFFu) throw FrameError("frame payload too large");
  const auto n = static_cast<std::uint32_t>(payload.size());
  const char header[5] = {static_cast<char>(n & 0xFF), static_cast<char>((n >> 8) & 0xFF),
                          static_cast<char>((n >> 16) & 0xFF), static_cast<char>((n >> 24) & 0xFF),
                          static_cast<char>(type)};
  out.append(header, sizeof header);
  out.append(payload);
}

std::optional<Frame> FrameDecoder::next() {
  const std::size_t available = buffer_.size() - offset_;
  if (available < 5) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
  const std::uint32_t n = static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                          static_cast<std::uint32_t>(p[2]) << 16 |
                          static_cast<std::uint32_t>(p[3]) << 24;
  if (n > max_payload_)
    throw FrameError("frame of " + std::to_string(n) + " bytes exceeds the limit of " +
                     std::to_string(max_payload_));
  if (available - 5 < n) return std::nullopt;
  Frame frame{p[4], buffer_.substr(offset_ + 5, n)};
  offset_ += 5 + static_cast<std::size_t>(n);
  // Compact once the consumed prefix dominates, keeping appends amortised O(1).
  if (offset_ > 4096 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return frame;
}

}  // namespace triage::core
