/*
 * prefix_cache.c -- an LRU set of 64-bit block keys in fixed arrays (contract in
 * skadi/prefix_cache.h).
 *
 * Storage: `cap` slots, each a key and the links of one doubly linked LRU list (head =
 * most recent), and an open-addressing table of slot numbers (linear probing, a power of
 * two at least twice the capacity, so the load stays <= 1/2).  A slot is taken in order
 * until the cache is full, then the tail's slot is reused: no allocation after create,
 * memory fixed at ~(16 + 8) bytes per block.  Deleting from the table shifts the probe
 * run back (no tombstones), so lookups stay short however long the run lasts.
 * Determinism: a key's table position is a fixed mix of the key (splitmix64's
 * finalizer), never an address; nothing iterates over the table.
 * Rejected: a radix tree over the prefixes (SGLang's RadixAttention) -- with hashes that
 * already name whole prefixes, the flat set answers the same question in O(blocks).
 */
#include "skadi/prefix_cache.h"

#include <stdlib.h>
#include <string.h>

#include "skadi/require.h"

struct sk_prefix_cache {
  int32_t cap;    /* slots, >= 1 */
  int32_t count;  /* slots in use, 0 .. cap */
  int32_t head;   /* most recently used slot, -1 when empty */
  int32_t tail;   /* least recently used slot, -1 when empty */
  uint32_t mask;  /* table size - 1 */
  uint64_t *key;  /* [cap] */
  int32_t *prev;  /* [cap] towards the head, -1 at the head */
  int32_t *next;  /* [cap] towards the tail, -1 at the tail */
  int32_t *table; /* [mask + 1] slot, -1 = empty */
};

static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

static uint32_t home(const sk_prefix_cache *pc, uint64_t key) {
  return (uint32_t)mix64(key) & pc->mask;
}

uint64_t sk_prefix_cache_key(uint64_t h, uint32_t salt) {
  /* salt x the golden-ratio constant: the passes' keys lie 2^64/phi apart, so small
   * hash ids of two passes never meet */
  return h + (uint64_t)salt * 0x9E3779B97F4A7C15ULL;
}

static size_t table_size(int32_t cap) {
  size_t t = 2;
  while (t < 2 * (size_t)cap)
    t *= 2;
  return t;
}

static sk_status alloc_arrays(sk_prefix_cache *pc) {
  size_t c = (size_t)pc->cap, t = (size_t)pc->mask + 1;
  pc->key = malloc(c * sizeof *pc->key);
  pc->prev = malloc(c * sizeof *pc->prev);
  pc->next = malloc(c * sizeof *pc->next);
  pc->table = malloc(t * sizeof *pc->table);
  return pc->key && pc->prev && pc->next && pc->table ? SK_OK : SK_ENOMEM;
}

sk_status sk_prefix_cache_create(sk_prefix_cache **out, int32_t capacity_blocks) {
  SK_REQUIRE(out != NULL);
  *out = NULL;
  if (capacity_blocks < 1 || capacity_blocks > SK_PREFIX_CACHE_MAX_BLOCKS)
    return SK_EINVAL;
  sk_prefix_cache *pc = calloc(1, sizeof *pc);
  if (pc == NULL)
    return SK_ENOMEM;
  pc->cap = capacity_blocks;
  pc->mask = (uint32_t)(table_size(capacity_blocks) - 1);
  pc->head = pc->tail = -1;
  if (alloc_arrays(pc) != SK_OK) {
    sk_prefix_cache_destroy(pc);
    return SK_ENOMEM;
  }
  memset(pc->table, 0xff, ((size_t)pc->mask + 1) * sizeof *pc->table); /* all -1 */
  *out = pc;
  return SK_OK;
}

sk_status sk_prefix_cache_clone(const sk_prefix_cache *src, sk_prefix_cache **out) {
  SK_REQUIRE(src != NULL && out != NULL);
  *out = NULL;
  sk_prefix_cache *pc = malloc(sizeof *pc);
  if (pc == NULL)
    return SK_ENOMEM;
  *pc = *src;
  pc->key = NULL, pc->prev = pc->next = pc->table = NULL;
  if (alloc_arrays(pc) != SK_OK) {
    sk_prefix_cache_destroy(pc);
    return SK_ENOMEM;
  }
  size_t c = (size_t)src->cap, t = (size_t)src->mask + 1;
  memcpy(pc->key, src->key, c * sizeof *pc->key);
  memcpy(pc->prev, src->prev, c * sizeof *pc->prev);
  memcpy(pc->next, src->next, c * sizeof *pc->next);
  memcpy(pc->table, src->table, t * sizeof *pc->table);
  *out = pc;
  return SK_OK;
}

void sk_prefix_cache_destroy(sk_prefix_cache *pc) {
  if (pc == NULL)
    return;
  free(pc->key);
  free(pc->prev);
  free(pc->next);
  free(pc->table);
  free(pc);
}

/* Table index holding key's slot, or -1. */
static int64_t find(const sk_prefix_cache *pc, uint64_t key) {
  for (uint32_t i = home(pc, key);; i = (i + 1) & pc->mask) {
    int32_t s = pc->table[i];
    if (s < 0)
      return -1;
    if (pc->key[s] == key)
      return i;
  }
}

/* Removes table entry i, shifting later members of its probe run back into the hole. */
static void table_remove(sk_prefix_cache *pc, uint32_t i) {
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & pc->mask;
    int32_t s = pc->table[j];
    if (s < 0)
      break;
    uint32_t k = home(pc, pc->key[s]);
    /* s may stay at j if its home lies cyclically in (i, j] */
    int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays)
      continue;
    pc->table[i] = s;
    i = j;
  }
  pc->table[i] = -1;
}

static void unlink_slot(sk_prefix_cache *pc, int32_t s) {
  if (pc->prev[s] >= 0)
    pc->next[pc->prev[s]] = pc->next[s];
  else
    pc->head = pc->next[s];
  if (pc->next[s] >= 0)
    pc->prev[pc->next[s]] = pc->prev[s];
  else
    pc->tail = pc->prev[s];
}

static void push_head(sk_prefix_cache *pc, int32_t s) {
  pc->prev[s] = -1;
  pc->next[s] = pc->head;
  if (pc->head >= 0)
    pc->prev[pc->head] = s;
  pc->head = s;
  if (pc->tail < 0)
    pc->tail = s;
}

static void touch(sk_prefix_cache *pc, uint64_t key) {
  int64_t i = find(pc, key);
  if (i >= 0) {
    int32_t s = pc->table[i];
    if (pc->head != s) {
      unlink_slot(pc, s);
      push_head(pc, s);
    }
    return;
  }
  int32_t s;
  if (pc->count < pc->cap) {
    s = pc->count++;
  } else { /* evict the least recently used */
    s = pc->tail;
    unlink_slot(pc, s);
    int64_t t = find(pc, pc->key[s]);
    SK_REQUIRE(t >= 0);
    table_remove(pc, (uint32_t)t);
  }
  pc->key[s] = key;
  uint32_t j = home(pc, key);
  while (pc->table[j] >= 0)
    j = (j + 1) & pc->mask;
  pc->table[j] = s;
  push_head(pc, s);
}

int32_t sk_prefix_cache_match(const sk_prefix_cache *pc, const uint64_t *keys, int32_t n) {
  SK_REQUIRE(pc != NULL && (keys != NULL || n == 0));
  int32_t k = 0;
  while (k < n && find(pc, keys[k]) >= 0)
    k++;
  return k;
}

void sk_prefix_cache_insert(sk_prefix_cache *pc, const uint64_t *keys, int32_t n) {
  SK_REQUIRE(pc != NULL && (keys != NULL || n == 0));
  if (n > pc->cap)
    n = pc->cap;
  for (int32_t i = n - 1; i >= 0; i--) /* the first key ends up the most recent */
    touch(pc, keys[i]);
}

int32_t sk_prefix_cache_count(const sk_prefix_cache *pc) {
  return pc->count;
}

int32_t sk_prefix_cache_capacity(const sk_prefix_cache *pc) {
  return pc->cap;
}

int sk_prefix_cache_contains(const sk_prefix_cache *pc, uint64_t key) {
  return find(pc, key) >= 0;
}

int32_t sk_prefix_cache_cached_tokens(int32_t hit_blocks, int32_t in_tokens) {
  if (hit_blocks <= 0 || in_tokens <= 1)
    return 0;
  int64_t t = (int64_t)hit_blocks * SK_KV_BLOCK_TOKENS;
  return t < in_tokens - 1 ? (int32_t)t : in_tokens - 1;
}

int32_t sk_prefix_cache_full_blocks(int32_t n_hashes, int32_t in_tokens) {
  int32_t full = in_tokens > 0 ? in_tokens / SK_KV_BLOCK_TOKENS : 0;
  return n_hashes < full ? (n_hashes > 0 ? n_hashes : 0) : full;
}
