// libFuzzer target: the plugin-host frame decoder (4-byte little-endian
// length, 1-byte type, payload) with a 1 MiB limit.
//
// Input: byte 0 drives the chunking and a repeat count; the rest is the byte
// stream (repeated 1..8 times so that streams pass the decoder's 4 KiB
// compaction point). The stream is fed in input-derived chunks, draining
// next() after each; the result must equal decoding it in one piece, and
// re-encoding every decoded frame must give back exactly the bytes consumed.
// A FrameError (a frame over the limit) is the expected outcome for bad
// input; the decoder is not used after it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "triage/core/frame.hpp"

namespace {

constexpr std::uint32_t kMaxPayload = 1u << 20;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_frame: invariant violated: %s\n", what);
  std::abort();
}

struct Outcome {
  std::vector<triage::core::Frame> frames;
  bool error = false;
  std::size_t pending = 0;
};

bool drain(triage::core::FrameDecoder& decoder, Outcome& out) {
  try {
    while (auto frame = decoder.next()) out.frames.push_back(std::move(*frame));
  } catch (const triage::core::FrameError&) {
    out.error = true;
    return false;
  }
  return true;
}

Outcome decode_whole(std::string_view stream) {
  Outcome out;
  triage::core::FrameDecoder decoder(kMaxPayload);
  decoder.feed(stream);
  if (drain(decoder, out)) out.pending = decoder.pending();
  return out;
}

Outcome decode_chunked(std::string_view stream, std::uint32_t seed) {
  Outcome out;
  triage::core::FrameDecoder decoder(kMaxPayload);
  std::uint32_t state = seed * 2654435761u + static_cast<std::uint32_t>(stream.size());
  std::size_t at = 0;
  while (at < stream.size()) {
    state = state * 1664525u + 1013904223u;
    // Mostly small chunks (split headers), sometimes large ones, sometimes empty.
    const std::uint32_t r = state >> 8;
    std::size_t len = (r % 8 == 0) ? r % 4096 : r % 7;
    if (len > stream.size() - at) len = stream.size() - at;
    decoder.feed(stream.substr(at, len));
    at += len;
    if (!drain(decoder, out)) return out;
  }
  if (drain(decoder, out)) out.pending = decoder.pending();
  return out;
}

bool same(const triage::core::Frame& a, const triage::core::Frame& b) {
  return a.type == b.type && a.payload == b.payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view once(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string stream;
  for (int i = 0, n = 1 + (control >> 5); i < n; ++i) stream.append(once);

  try {
    const Outcome whole = decode_whole(stream);
    const Outcome chunked = decode_chunked(stream, control);
    if (whole.error != chunked.error) fail("chunking changes whether the stream is refused");
    if (whole.frames.size() != chunked.frames.size()) fail("chunking changes the frame count");
    for (std::size_t i = 0; i < whole.frames.size(); ++i)
      if (!same(whole.frames[i], chunked.frames[i])) fail("chunking changes a frame");
    if (whole.pending != chunked.pending) fail("chunking changes the pending byte count");

    std::string reencoded;
    for (const auto& frame : whole.frames) {
      if (frame.payload.size() > kMaxPayload) fail("a frame over the limit was returned");
      std::string one;
      triage::core::encode_frame(frame.type, frame.payload, one);
      if (one.size() != frame.payload.size() + 5) fail("encoded size is not payload + 5");
      triage::core::FrameDecoder again(kMaxPayload);
      again.feed(one);
      const auto decoded = again.next();
      if (!decoded || !same(*decoded, frame)) fail("encode then decode changes the frame");
      if (again.next() || again.pending() != 0) fail("encode then decode leaves bytes");
      reencoded += one;
    }
    if (stream.compare(0, reencoded.size(), reencoded) != 0)
      fail("re-encoded frames differ from the bytes consumed");
    if (!whole.error && reencoded.size() + whole.pending != stream.size())
      fail("consumed + pending differs from the bytes fed");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_frame: unexpected %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
  return 0;
}
