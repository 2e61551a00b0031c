package sim

// prefixCache is the prefix cache's bookkeeping: which full prompt blocks
// (identified by the chained hash of their words) are in the KV cache, how
// many running sequences reference each, and the unreferenced ones in LRU
// order, evicted when the cache needs room (as vLLM's block manager does).
type prefixCache struct {
	size      int // tokens per block
	m         map[uint64]*block
	lru       block // sentinel: lru.next is the least recently used
	shared    int   // blocks referenced by running sequences
	evictable int   // blocks nobody references

	queries, hits uint64 // tokens
}

type block struct {
	hash       uint64
	ref        int
	prev, next *block
}

func newPrefixCache(size int) *prefixCache {
	pc := &prefixCache{size: size, m: make(map[uint64]*block)}
	pc.lru.prev, pc.lru.next = &pc.lru, &pc.lru
	return pc
}

func (pc *prefixCache) unlink(b *block) {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
}

func (pc *prefixCache) pushBack(b *block) {
	b.prev, b.next = pc.lru.prev, &pc.lru
	pc.lru.prev.next = b
	pc.lru.prev = b
}

// take references cached blocks (a prefix hit).
func (pc *prefixCache) take(hashes []uint64) {
	for _, h := range hashes {
		pc.ref(pc.m[h])
	}
}

func (pc *prefixCache) ref(b *block) {
	if b.ref == 0 {
		pc.unlink(b)
		pc.evictable--
		pc.shared++
	}
	b.ref++
}

// insert adds a block a sequence has just computed, or references the
// copy already there.
func (pc *prefixCache) insert(h uint64) {
	if b := pc.m[h]; b != nil {
		pc.ref(b)
		return
	}
	pc.m[h] = &block{hash: h, ref: 1}
	pc.shared++
}

// release drops a sequence's references. A block nobody references stays
// cached; the sequence's last block is queued for eviction first.
func (pc *prefixCache) release(hashes []uint64) {
	for i := len(hashes) - 1; i >= 0; i-- {
		b := pc.m[hashes[i]]
		b.ref--
		if b.ref == 0 {
			pc.shared--
			pc.evictable++
			pc.pushBack(b)
		}
	}
}

// evict drops the least recently used unreferenced block.
func (pc *prefixCache) evict() {
	b := pc.lru.next
	if b == &pc.lru {
		return
	}
	pc.unlink(b)
	delete(pc.m, b.hash)
	pc.evictable--
}

// blockHashes returns the chained FNV-1a hashes of the full blocks of size
// tokens of text (the simulator's tokenizer): block i's hash covers every
// token up to its end, so equal hashes mean equal prefixes.
func blockHashes(text string, size int) []uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	var out []uint64
	h := uint64(offset)
	tokens := 0
	eachToken(text, func(start, end int) {
		for i := start; i < end; i++ {
			h = (h ^ uint64(text[i])) * prime
		}
		h = (h ^ 0xff) * prime // a token boundary (0xff is never in UTF-8)
		tokens++
		if tokens%size == 0 {
			out = append(out, h)
		}
	})
	return out
}
