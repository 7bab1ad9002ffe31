// Prompt audio: 48 kHz mono S16 samples, spoken by espeak-ng or decoded
// from a WAV file a user supplies (any WAV GStreamer's wavparse reads).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ivr {

constexpr int kPromptRate = 48000;
using Samples = std::vector<int16_t>;

// Decodes `path`; false with `error` ("PATH: ...") when it cannot, or when
// it is longer than 60 s.
bool decode_wav(const std::string &path, Samples &out, std::string &error);

// Speaks `text` with espeak-ng (`voice`, `speed` in words per minute) into
// a WAV in a private temporary folder, decodes it and removes both.
bool speak(const std::string &text, const std::string &voice, int speed, Samples &out, std::string &error);

} // namespace ivr
