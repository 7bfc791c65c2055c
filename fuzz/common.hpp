// What the fuzz targets share: one simulated world of the three services in memory, made once
// per process, with a few accounts, a linked profile and the raw handlers of each service.
#pragma once

#include "linksim/sim/world.hpp"

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace linksim::fuzz {

struct fixture {
  std::map<std::string, http::handler> handlers;  // by system: idp, threads, ads
  std::unique_ptr<sim::world> world;

  fixture() {
    sim::world_options o;
    o.in_memory = true;
    o.dir = std::filesystem::temp_directory_path();
    o.expose = [this](const std::string& system, http::handler h) {
      handlers[system] = h;
      return h;
    };
    world = std::make_unique<sim::world>(std::move(o));
    for (const char* name : {"alice", "bob"}) world->create_account(name);
    world->sign_up("alice");
  }
};

inline fixture& the_fixture() {
  static fixture f;
  return f;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace linksim::fuzz
