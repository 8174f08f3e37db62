/*
 * prefix_cache.h -- one server's KV prefix cache: an LRU set of KV-cache block hashes
 * (docs/MODEL.md, "KV prefix reuse").
 *
 * A prompt is a sequence of blocks of SK_KV_BLOCK_TOKENS tokens, each named by a hash
 * that covers the block and everything before it (Mooncake's hash_ids): two prompts that
 * share their first k blocks share their first k hashes.  A request hits the longest run
 * of its leading blocks the cache holds; that part of its prefill is skipped.
 *
 * Keys are (hash, salt): the salt separates passes over a looping trace, so that a replay
 * does not hit on its own previous pass (sk_prefix_cache_key).  Deterministic: the table
 * position comes from a fixed mix of the key, eviction from the LRU order alone.
 */
#ifndef SKADI_PREFIX_CACHE_H
#define SKADI_PREFIX_CACHE_H

#include <stdint.h>

#include "skadi/status.h"

#define SK_KV_BLOCK_TOKENS 512               /* tokens per KV block (Mooncake's hash_ids) */
#define SK_PREFIX_CACHE_MAX_BLOCKS (1 << 24) /* cap on a cache's capacity (blocks) */

typedef struct sk_prefix_cache sk_prefix_cache;

/* Allocates an empty cache of capacity_blocks (1 .. SK_PREFIX_CACHE_MAX_BLOCKS) blocks;
 * SK_EINVAL outside that range, SK_ENOMEM.  The caller frees with sk_prefix_cache_destroy. */
sk_status sk_prefix_cache_create(sk_prefix_cache **out, int32_t capacity_blocks);

/* A copy of src (same contents and LRU order); the caller frees it.  SK_ENOMEM. */
sk_status sk_prefix_cache_clone(const sk_prefix_cache *src, sk_prefix_cache **out);

/* NULL is a no-op. */
void sk_prefix_cache_destroy(sk_prefix_cache *pc);

/* The cache key of block hash h in pass `salt` (salt 0: h itself). */
uint64_t sk_prefix_cache_key(uint64_t h, uint32_t salt);

/* How many of keys[0..n) lead the request and are all cached: the largest k with keys[0..k)
 * each in the cache.  Changes nothing (the router asks every candidate). */
int32_t sk_prefix_cache_match(const sk_prefix_cache *pc, const uint64_t *keys, int32_t n);

/* Makes keys[0..n) cached and the most recently used, the first key most recent of all:
 * a prefix outlives its tails (evicting a request's first block would make the rest
 * unreachable).  Least recently used blocks are evicted to make room; with n above the
 * capacity only the first `capacity` keys are kept. */
void sk_prefix_cache_insert(sk_prefix_cache *pc, const uint64_t *keys, int32_t n);

/* Blocks held now, and the capacity. */
int32_t sk_prefix_cache_count(const sk_prefix_cache *pc);
int32_t sk_prefix_cache_capacity(const sk_prefix_cache *pc);

/* Whether key is cached (no LRU change); for tests and diagnostics. */
int sk_prefix_cache_contains(const sk_prefix_cache *pc, uint64_t key);

/* Tokens of a prompt of in_tokens whose KV a hit of hit_blocks leading blocks provides:
 * hit_blocks x SK_KV_BLOCK_TOKENS, but at most in_tokens - 1 (the last prompt token is
 * always computed: its logits give the first output token). */
int32_t sk_prefix_cache_cached_tokens(int32_t hit_blocks, int32_t in_tokens);

/* The full blocks of a prompt of in_tokens with n_hashes block hashes: only full blocks
 * are cached (min(n_hashes, in_tokens / SK_KV_BLOCK_TOKENS)); Mooncake's last hash names
 * the partial tail. */
int32_t sk_prefix_cache_full_blocks(int32_t n_hashes, int32_t in_tokens);

#endif
