// Inclusion and consistency proofs as self-contained JSON files, and their check.
#include "linksim/evidence/proof.hpp"

#include "linksim/common/json.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/evidence/merkle.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace linksim::evidence {
namespace {

namespace bj = boost::json;

struct stored_log {
  std::vector<std::string> entries;
  std::vector<digest> leaves;                                      // hashed again from the entries
  std::vector<std::pair<std::uint64_t, std::string>> checkpoints;  // size, note; oldest first
};

stored_log read_log(const std::filesystem::path& path) {
  store::database db(path, {.read_only = true});
  stored_log l;
  auto q = db.prepare("SELECT entry FROM entries ORDER BY idx");
  while (q.step()) {
    l.entries.push_back(q.get_text(0));
    l.leaves.push_back(leaf_hash(as_bytes(l.entries.back())));
  }
  auto c = db.prepare("SELECT tree_size, note FROM checkpoints ORDER BY tree_size");
  while (c.step())
    l.checkpoints.emplace_back(static_cast<std::uint64_t>(c.get_int(0)), c.get_text(1));
  return l;
}

bj::array hex_list(const std::vector<digest>& hashes) {
  bj::array a;
  for (const auto& h : hashes) a.emplace_back(to_hex(h));
  return a;
}

// A hash written as 64 hex digits.
std::optional<digest> digest_of(const bj::value* v) {
  if (!v || !v->is_string()) return std::nullopt;
  const auto bytes = from_hex(v->as_string());
  if (!bytes || bytes->size() != 32) return std::nullopt;
  digest d;
  std::copy(bytes->begin(), bytes->end(), d.begin());
  return d;
}

std::optional<std::vector<digest>> digests_of(const bj::value* v) {
  if (!v || !v->is_array()) return std::nullopt;
  std::vector<digest> out;
  for (const auto& h : v->as_array()) {
    const auto d = digest_of(&h);
    if (!d) return std::nullopt;
    out.push_back(*d);
  }
  return out;
}

std::optional<std::uint64_t> size_of(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_int64() || v->as_int64() < 0) return std::nullopt;
  return static_cast<std::uint64_t>(v->as_int64());
}

}  // namespace

result<std::string> prove_inclusion(const std::filesystem::path& path, std::uint64_t index) {
  const auto l = read_log(path);
  if (index >= l.entries.size()) return make_error_code(errc::not_found);
  // The newest checkpoint covers every entry it can: prove against it.
  if (l.checkpoints.empty() || l.checkpoints.back().first <= index)
    return make_error_code(errc::not_found);
  const auto& [size, note] = l.checkpoints.back();
  if (size > l.leaves.size()) return make_error_code(errc::not_found);
  const auto proof = inclusion_proof(std::span(l.leaves).subspan(0, size), index);
  return json::serialize(bj::object{{"kind", "inclusion"},
                                    {"index", index},
                                    {"entry", l.entries[index]},
                                    {"tree_size", size},
                                    {"proof", hex_list(proof)},
                                    {"checkpoint", note}});
}

result<std::string> prove_consistency(const std::filesystem::path& path, std::uint64_t from_size) {
  const auto l = read_log(path);
  if (l.checkpoints.empty() || from_size == 0) return make_error_code(errc::not_found);
  const auto& [size, note] = l.checkpoints.back();
  if (from_size > size || size > l.leaves.size()) return make_error_code(errc::not_found);
  const std::span<const digest> tree = std::span(l.leaves).subspan(0, size);
  bj::object o{{"kind", "consistency"},
               {"from_size", from_size},
               {"from_root", to_hex(root(tree.subspan(0, from_size)))},
               {"tree_size", size},
               {"proof", hex_list(consistency_proof(tree, from_size))},
               {"checkpoint", note}};
  for (const auto& [s, n] : l.checkpoints)
    if (s == from_size) o["from_checkpoint"] = n;
  return json::serialize(o);
}

proof_report check_proof(std::string_view text, const note_verifier& key) {
  proof_report r;
  const auto o = json::parse_object(text);
  if (!o) {
    r.problems.push_back("not a proof: the file is not a JSON object");
    return r;
  }
  const auto* kind = o->if_contains("kind");
  const auto* note = o->if_contains("checkpoint");
  const auto size = size_of(*o, "tree_size");
  const auto proof = digests_of(o->if_contains("proof"));
  if (!kind || !kind->is_string() || !note || !note->is_string() || !size || !proof) {
    r.problems.push_back(
        "not a proof: it needs kind, tree_size, proof (hex hashes) and checkpoint");
    return r;
  }
  r.kind = std::string(kind->as_string());
  auto c = key.open(note->as_string());
  if (!c) {
    r.problems.push_back("its checkpoint has no valid signature by " + key.name);
    return r;
  }
  r.signed_head = *c;
  if (c->size != *size) {
    r.problems.push_back("its checkpoint signs size " + std::to_string(c->size) +
                         ", the proof is for size " + std::to_string(*size));
    return r;
  }
  if (r.kind == "inclusion") {
    const auto index = size_of(*o, "index");
    const auto* entry = o->if_contains("entry");
    if (!index || !entry || !entry->is_string()) {
      r.problems.push_back("not an inclusion proof: it needs index and entry");
      return r;
    }
    r.index = *index;
    r.entry = std::string(entry->as_string());
    if (!verify_inclusion(*index, *size, leaf_hash(as_bytes(r.entry)), *proof, c->root))
      r.problems.push_back("entry " + std::to_string(*index) +
                           " is not in the tree its checkpoint signs: the entry or the proof "
                           "was changed");
    else if (!parse_entry(r.entry))
      r.problems.push_back("entry " + std::to_string(*index) + " is in the tree but is not a flow");
    return r;
  }
  if (r.kind == "consistency") {
    const auto from = size_of(*o, "from_size");
    const auto earlier_root = digest_of(o->if_contains("from_root"));
    if (!from || !earlier_root) {
      r.problems.push_back("not a consistency proof: it needs from_size and from_root");
      return r;
    }
    r.from_size = *from;
    const digest& earlier = *earlier_root;
    if (const auto* fc = o->if_contains("from_checkpoint")) {
      auto e = fc->is_string() ? key.open(fc->as_string())
                               : result<checkpoint>(make_error_code(errc::bad_field));
      if (!e || e->size != *from || e->root != earlier)
        r.problems.push_back("its from_checkpoint is not a checkpoint by " + key.name +
                             " of that tree");
    }
    if (!verify_consistency(*from, *size, earlier, c->root, *proof))
      r.problems.push_back("the tree of " + std::to_string(*from) +
                           " entries is not a prefix of the tree its checkpoint signs");
    return r;
  }
  r.problems.push_back("unknown proof kind " + r.kind);
  return r;
}

}  // namespace linksim::evidence
