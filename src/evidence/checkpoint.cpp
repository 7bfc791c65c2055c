// Signed-note checkpoints (C2SP signed-note, tlog-checkpoint) with Ed25519.
#include "linksim/evidence/checkpoint.hpp"

#include <charconv>
#include <cstring>

namespace linksim::evidence {
namespace {

constexpr std::uint8_t ed25519_alg = 0x01;
constexpr std::string_view em_dash = "\xe2\x80\x94";  // U+2014, which opens a signature line

std::string body_of(const checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" + base64_encode(c.root) + "\n";
}

}  // namespace

std::uint32_t note_key_hash(std::string_view name, std::span<const std::uint8_t, 32> public_key) {
  std::string buf(name);
  buf += '\n';
  buf += static_cast<char>(ed25519_alg);
  buf.append(as_chars(public_key));
  const digest d = sha256(buf);
  return std::uint32_t{d[0]} << 24 | std::uint32_t{d[1]} << 16 | std::uint32_t{d[2]} << 8 | d[3];
}

std::string note_signer::verifier_key() const {
  std::uint8_t raw[33];
  raw[0] = ed25519_alg;
  std::memcpy(raw + 1, key.public_key.data(), 32);
  const std::uint32_t h = note_key_hash(name, key.public_key);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", h);
  return name + "+" + hex + "+" + base64_encode(std::span<const std::uint8_t>(raw));
}

std::string note_signer::sign(const checkpoint& c) const {
  const std::string body = body_of(c);
  const auto sig = key.sign(as_bytes(body));
  const std::uint32_t h = note_key_hash(name, key.public_key);
  std::uint8_t blob[68] = {static_cast<std::uint8_t>(h >> 24), static_cast<std::uint8_t>(h >> 16),
                           static_cast<std::uint8_t>(h >> 8), static_cast<std::uint8_t>(h)};
  std::memcpy(blob + 4, sig.data(), sig.size());
  return body + "\n" + std::string(em_dash) + " " + name + " " +
         base64_encode(std::span<const std::uint8_t>(blob)) + "\n";
}

std::optional<note_verifier> note_verifier::parse(std::string_view vkey) {
  const auto p1 = vkey.find('+');
  if (p1 == std::string_view::npos) return std::nullopt;
  const auto p2 = vkey.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return std::nullopt;
  note_verifier v;
  v.name = std::string(vkey.substr(0, p1));
  const std::string_view hex = vkey.substr(p1 + 1, p2 - p1 - 1);
  auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v.key_hash, 16);
  if (v.name.empty() || hex.size() != 8 || ec != std::errc{} || ptr != hex.data() + hex.size())
    return std::nullopt;
  auto raw = base64_decode(vkey.substr(p2 + 1));
  if (!raw || raw->size() != 33 || (*raw)[0] != ed25519_alg) return std::nullopt;
  std::memcpy(v.public_key.data(), raw->data() + 1, 32);
  if (note_key_hash(v.name, v.public_key) != v.key_hash) return std::nullopt;
  return v;
}

result<checkpoint> note_verifier::open(std::string_view note) const {
  const auto split = note.find("\n\n");
  if (split == std::string_view::npos) return make_error_code(errc::bad_field);
  const std::string_view body = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  bool verified = false;
  while (!sigs.empty() && !verified) {
    const auto eol = sigs.find('\n');
    if (eol == std::string_view::npos) return make_error_code(errc::bad_field);
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    if (!line.starts_with(em_dash)) return make_error_code(errc::bad_field);
    line.remove_prefix(em_dash.size());
    if (!line.starts_with(' ')) return make_error_code(errc::bad_field);
    line.remove_prefix(1);
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos || line.substr(0, sp) != name) continue;
    auto blob = base64_decode(line.substr(sp + 1));
    if (!blob || blob->size() != 68) continue;
    const std::uint32_t h = std::uint32_t{(*blob)[0]} << 24 | std::uint32_t{(*blob)[1]} << 16 |
                            std::uint32_t{(*blob)[2]} << 8 | (*blob)[3];
    if (h != key_hash) continue;
    verified = ed25519_verify(public_key, as_bytes(body),
                              std::span<const std::uint8_t>(blob->data() + 4, 64));
  }
  if (!verified) return make_error_code(errc::bad_field);

  // The body: origin, size, base64 root, then optional extension lines.
  checkpoint c;
  std::string_view rest = body;
  auto next_line = [&rest]() -> std::optional<std::string_view> {
    const auto eol = rest.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    auto l = rest.substr(0, eol);
    rest.remove_prefix(eol + 1);
    return l;
  };
  auto origin = next_line(), size = next_line(), root_b64 = next_line();
  if (!origin || !size || !root_b64 || origin->empty()) return make_error_code(errc::bad_field);
  c.origin = std::string(*origin);
  auto [ptr, ec] = std::from_chars(size->data(), size->data() + size->size(), c.size);
  if (ec != std::errc{} || ptr != size->data() + size->size())
    return make_error_code(errc::bad_field);
  auto root = base64_decode(*root_b64);
  if (!root || root->size() != 32) return make_error_code(errc::bad_field);
  std::memcpy(c.root.data(), root->data(), 32);
  return c;
}

std::string note_verifier::fingerprint() const {
  return "SHA256:" + to_hex(sha256(std::span<const std::uint8_t>(public_key)));
}

}  // namespace linksim::evidence
