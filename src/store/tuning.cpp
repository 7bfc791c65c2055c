// SQLite's allocator and page cache as linksim configures them (see tuning.hpp).
#include "tuning.hpp"

#include <sqlite3.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace linksim::store::tuning {
namespace {

// SQLite's memory, with its largest blocks mapped straight from the system. A block that SQLite
// doubles as it grows (a page cache's hash table, a long value being built; the whole database,
// when in-memory databases used the memdb VFS) grows by remapping its pages (mremap), where a
// heap allocator may copy the block to a new one (mimalloc does) and keep both copies resident
// for a while: with memdb the 100 000-account population peaked at 1 479 MiB that way, and at
// 1 094 MiB with this. Every block carries its size and where it came from in a header (SQLite
// asks for sizes with xSize).
namespace memory {
constexpr std::size_t header = 16;  // what follows stays 16-byte aligned
constexpr std::size_t mapped_from = std::size_t{4} << 20;
constexpr std::uint64_t mapped_flag = std::uint64_t{1} << 63;

std::size_t page_rounded(std::size_t n) {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

void* with_header(void* base, std::size_t n, bool mapped) {
  const std::uint64_t word = static_cast<std::uint64_t>(n) | (mapped ? mapped_flag : 0);
  std::memcpy(base, &word, sizeof word);
  return static_cast<char*>(base) + header;
}

void* base_of(void* p) {
  return static_cast<char*>(p) - header;
}

std::uint64_t word_of(void* p) {
  std::uint64_t word = 0;
  std::memcpy(&word, base_of(p), sizeof word);
  return word;
}

// Small blocks are recycled per thread. Debian builds SQLite without its lookaside allocator,
// so every statement run allocates its registers' buffers and its cursors (about ten blocks)
// and frees them all when it ends: 2 600 blocks per account in the population benchmark. A
// block freed here is kept, up to `kept` of each size class, for the next request of that
// class on the same thread; its header holds the class's size, which SQLite may use (xSize).
constexpr std::size_t granule = 16;
constexpr std::size_t small_limit = 1024;
constexpr std::size_t classes = small_limit / granule;  // class c: sizes (16c, 16(c + 1)]
constexpr std::uint32_t kept = 256;

struct free_block {
  free_block* next;
};
// Trivially destructible, so it stays readable while its thread ends: `retired` then sends
// blocks back to the heap (a connection may close in a static destructor after it).
struct small_cache {
  free_block* head[classes];
  std::uint32_t count[classes];
  bool retired;
};
thread_local small_cache cache{};
struct cache_release {
  ~cache_release() {
    for (std::size_t c = 0; c < classes; ++c)
      while (free_block* b = cache.head[c]) {
        cache.head[c] = b->next;
        std::free(base_of(b));
      }
    cache.retired = true;
  }
};
thread_local cache_release release_at_thread_end;

void* allocate(int n) {
  const auto size = static_cast<std::size_t>(n);
  if (size >= mapped_from) {
    void* base = mmap(nullptr, page_rounded(size + header), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return base == MAP_FAILED ? nullptr : with_header(base, size, true);
  }
  if (size <= small_limit) {
    const std::size_t c = size == 0 ? 0 : (size - 1) / granule;
    if (free_block* b = cache.head[c]) {
      cache.head[c] = b->next;
      --cache.count[c];
      return b;  // its header already holds the class's size
    }
    (void)&release_at_thread_end;  // odr-use: constructs it, so it runs at this thread's end
    void* base = std::malloc((c + 1) * granule + header);
    return base ? with_header(base, (c + 1) * granule, false) : nullptr;
  }
  void* base = std::malloc(size + header);
  return base ? with_header(base, size, false) : nullptr;
}

void release(void* p) {
  if (!p) return;
  const std::uint64_t word = word_of(p);
  if (word & mapped_flag) {
    munmap(base_of(p), page_rounded((word & ~mapped_flag) + header));
    return;
  }
  if (word <= small_limit && !cache.retired) {
    const std::size_t c = (static_cast<std::size_t>(word) - 1) / granule;
    if (cache.count[c] < kept) {
      auto* b = static_cast<free_block*>(p);
      b->next = cache.head[c];
      cache.head[c] = b;
      ++cache.count[c];
      return;
    }
  }
  std::free(base_of(p));
}

int size_of(void* p) {
  return p ? static_cast<int>(word_of(p) & ~mapped_flag) : 0;
}

void* reallocate(void* p, int n) {
  const auto size = static_cast<std::size_t>(n);
  const std::uint64_t word = word_of(p);
  const bool was_mapped = (word & mapped_flag) != 0;
  const std::size_t had = word & ~mapped_flag;
  // It fits: a small block's class may hold more, and a shrinking block keeps its memory until it
  // is freed (SQLite shrinks rarely, and xSize answers what the block holds).
  if (!was_mapped && size <= had) return p;
  if (was_mapped && size >= mapped_from) {
    void* base =
        mremap(base_of(p), page_rounded(had + header), page_rounded(size + header), MREMAP_MAYMOVE);
    return base == MAP_FAILED ? nullptr : with_header(base, size, true);
  }
  if (!was_mapped && had > small_limit && size < mapped_from) {
    void* base = std::realloc(base_of(p), size + header);
    return base ? with_header(base, size, false) : nullptr;
  }
  // Between classes, from the heap to a mapping or back: a new block.
  void* q = allocate(n);
  if (!q) return nullptr;
  std::memcpy(q, p, std::min(had, size));
  release(p);
  return q;
}

int roundup(int n) {
  return (n + 7) & ~7;
}
int init(void*) {
  return SQLITE_OK;
}
void shutdown(void*) {}

const sqlite3_mem_methods methods{allocate, release, reallocate, size_of,
                                  roundup,  init,    shutdown,   nullptr};
}  // namespace memory

// SQLite's page cache, with one key moved. When a B-tree rebalance puts its new pages in order
// it swaps two of them through a spare page number, the lock-byte page (1 GiB / page size + 1,
// 262 145 with 4 KiB pages), which no real page ever uses. The default cache then believes its
// highest key is that number until the next truncation, and the truncation at the end of the
// transaction, finding a range of keys wider than its hash table, walks the whole table: a
// commit costs as much as the cache is large. Here the spare number is kept under key 0, which
// SQLite never uses (pages count from 1), so the highest key stays the database's own. In a
// database past 1 GiB the number falls inside the file, but SQLite skips that page there too:
// no page is ever stored under it but a parked one.
namespace page_cache {
sqlite3_pcache_methods2 inner{};
struct cache {
  sqlite3_pcache* inner;
  unsigned spare;  // the lock-byte page's number for this page size
};
constexpr unsigned kept_as = 0;
unsigned outer_to_inner(const cache* c, unsigned key) {
  return key == c->spare ? kept_as : key;
}
cache* of(sqlite3_pcache* p) {
  return reinterpret_cast<cache*>(p);
}
int init(void*) {
  return inner.xInit ? inner.xInit(inner.pArg) : SQLITE_OK;
}
void shutdown(void*) {
  if (inner.xShutdown) inner.xShutdown(inner.pArg);
}
sqlite3_pcache* create(int page_size, int extra, int purgeable) {
  auto* c = static_cast<cache*>(sqlite3_malloc(sizeof(cache)));
  if (!c) return nullptr;
  c->inner = inner.xCreate(page_size, extra, purgeable);
  if (!c->inner) {
    sqlite3_free(c);
    return nullptr;
  }
  c->spare = static_cast<unsigned>(0x40000000 / page_size + 1);
  return reinterpret_cast<sqlite3_pcache*>(c);
}
void cachesize(sqlite3_pcache* p, int n) {
  inner.xCachesize(of(p)->inner, n);
}
int pagecount(sqlite3_pcache* p) {
  return inner.xPagecount(of(p)->inner);
}
sqlite3_pcache_page* fetch(sqlite3_pcache* p, unsigned key, int create_flag) {
  return inner.xFetch(of(p)->inner, outer_to_inner(of(p), key), create_flag);
}
void unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  inner.xUnpin(of(p)->inner, page, discard);
}
void rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  inner.xRekey(of(p)->inner, page, outer_to_inner(of(p), old_key), outer_to_inner(of(p), new_key));
}
// A truncation leaves key 0 alone: only a rebalance in progress parks a page there, and it
// moves it on before anything else runs.
void truncate(sqlite3_pcache* p, unsigned limit) {
  inner.xTruncate(of(p)->inner, limit);
}
void destroy(sqlite3_pcache* p) {
  inner.xDestroy(of(p)->inner);
  sqlite3_free(p);
}
void shrink(sqlite3_pcache* p) {
  inner.xShrink(of(p)->inner);
}
const sqlite3_pcache_methods2 methods{1,         nullptr,   init,  shutdown, create,
                                      cachesize, pagecount, fetch, unpin,    rekey,
                                      truncate,  destroy,   shrink};
bool install() {
  return sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner) == SQLITE_OK && inner.xCreate &&
         sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods) == SQLITE_OK;
}
}  // namespace page_cache

// True unless the environment variable `name` is set to `off_value`.
bool wanted(const char* name, std::string_view off_value) {
  const char* v = std::getenv(name);
  return !(v && std::string_view(v) == off_value);
}

}  // namespace

void configure_once() {
  // No process-wide allocation statistics: keeping them takes a global mutex on every allocation
  // SQLite makes, and linksim never reads them.
  static const bool configured = [] {
    bool ok = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
    if (wanted("LINKSIM_SQLITE_ALLOCATOR", "system"))
      ok = ok && sqlite3_config(SQLITE_CONFIG_MALLOC, &memory::methods) == SQLITE_OK;
    if (wanted("LINKSIM_SQLITE_PAGE_CACHE", "default")) ok = ok && page_cache::install();
    return ok;
  }();
  (void)configured;
}

}  // namespace linksim::store::tuning
