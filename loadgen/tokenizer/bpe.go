package tokenizer

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// Count memo: streamed frames are short and repeat a lot (one or a few
// tokens each), and an encoding costs microseconds and a few allocations
// per call, so Count remembers the answer for short texts. The memo is
// bounded: once full it stops growing and misses cost the same as without
// it.
const (
	memoMaxLen     = 64      // bytes; longer texts are never memoized
	memoMaxEntries = 1 << 16 // ~10 MB at most per encoding
	memoShards     = 32
)

// MaxExactPiece is the longest pre-token, in bytes, that is merged whole.
// A pre-token is what the encoding's pattern splits text into before the
// byte-pair merge: a word, a run of digits, punctuation or spaces. Only a
// run with no break in it grows this long (one character repeated, base64,
// minified data, long CJK text). A longer one is merged in pieces of at
// most MaxExactPiece bytes cut at character boundaries, which keeps the
// merge's memory bounded; its count may then differ from a server's by
// about one token per cut. CountBounded reports when that happened.
const MaxExactPiece = 1 << 20

// smallPiece is the longest pre-token merged with the simple quadratic
// scan, which needs no allocation and beats the heap on short pieces.
const smallPiece = 128

// noRank marks a pair of parts that is not a token.
const noRank = math.MaxInt32

// bpe is a tiktoken encoding: the pre-tokenizer pattern and the merge
// ranks of OpenAI's tiktoken, with a byte-pair merge whose cost is
// O(n log n) in a pre-token's length (tiktoken-go's is quadratic: a
// 64 KiB run of letters takes seconds, a MiB does not finish). The merge
// gives the same tokens as tiktoken's for every text (see
// reference_test.go). Everything but the Count memo is read-only after
// construction, and regexp2 patterns are safe for concurrent use; the
// memo is sharded maps under read-write locks.
type bpe struct {
	name        string
	pat         *regexp2.Regexp
	ascii       func(text string, f func(piece string)) // pat on ASCII text, in one pass
	ranks       map[string]int                          // token bytes → id
	decoder     []string                                // id → bytes, ordinary and special
	maxTokenLen int
	vocab       int

	seed    maphash.Seed
	entries atomic.Int64
	shards  [memoShards]memoShard
}

type memoShard struct {
	mu sync.RWMutex
	m  map[string]int32
	_  [32]byte // pad to 64 bytes: shards on separate cache lines
}

func newBPE(name string, enc encoding, ranks map[string]int) (*bpe, error) {
	pat, err := regexp2.Compile(enc.pattern, regexp2.None)
	if err != nil {
		return nil, err
	}
	b := &bpe{name: name, pat: pat, ascii: enc.ascii, ranks: ranks, vocab: enc.vocab, seed: maphash.MakeSeed()}
	special := enc.special
	size := 0
	for tok, id := range ranks {
		size = max(size, id+1)
		b.maxTokenLen = max(b.maxTokenLen, len(tok))
	}
	for _, id := range special {
		size = max(size, id+1)
	}
	b.decoder = make([]string, size) // shares the keys' bytes
	for tok, id := range ranks {
		b.decoder[id] = tok
	}
	for tok, id := range special {
		b.decoder[id] = tok
	}
	for i := range b.shards {
		b.shards[i].m = make(map[string]int32)
	}
	return b, nil
}

func (b *bpe) Name() string { return b.name }

// Encode returns the token ids of text. Special-token text such as
// "<|endoftext|>" is encoded as ordinary text, as a server does with user
// content. Invalid UTF-8 is encoded as if each bad byte were U+FFFD, as
// tiktoken-go does.
func (b *bpe) Encode(text string) []int {
	if text == "" {
		return nil
	}
	ids, _ := b.encode(nil, text)
	return ids
}

// Decode returns the text of ids; ids outside the vocabulary decode to
// nothing. Special-token ids decode to their text.
func (b *bpe) Decode(ids []int) string {
	n := 0
	for _, id := range ids {
		if id >= 0 && id < len(b.decoder) {
			n += len(b.decoder[id])
		}
	}
	buf := make([]byte, 0, n)
	for _, id := range ids {
		if id >= 0 && id < len(b.decoder) {
			buf = append(buf, b.decoder[id]...)
		}
	}
	return string(buf)
}

// Count returns len(Encode(text)). Results for texts of up to 64 bytes are
// memoized (bounded), which makes counting streamed frames cheap.
func (b *bpe) Count(text string) int {
	n, _ := b.CountBounded(text)
	return n
}

// CountBounded returns len(Encode(text)) and whether a pre-token longer
// than MaxExactPiece was merged in pieces, which may make the count differ
// from the model's by about one token per MiB of that pre-token. Its cost
// is O(n log n) in len(text) for any text.
func (b *bpe) CountBounded(text string) (n int, bounded bool) {
	if text == "" {
		return 0, false
	}
	if len(text) > memoMaxLen {
		return b.count(text)
	}
	sh := &b.shards[maphash.String(b.seed, text)%memoShards]
	sh.mu.RLock()
	c, ok := sh.m[text]
	sh.mu.RUnlock()
	if ok {
		return int(c), false
	}
	n, _ = b.count(text)
	if b.entries.Load() < memoMaxEntries {
		sh.mu.Lock()
		if _, ok := sh.m[text]; !ok {
			sh.m[strings.Clone(text)] = int32(n) // text may alias a large buffer
			b.entries.Add(1)
		}
		sh.mu.Unlock()
	}
	return n, false
}

// count encodes text piece by piece into one scratch slice, so counting
// allocates no slice of ids as long as the text.
func (b *bpe) count(text string) (n int, bounded bool) {
	var scratch []int
	b.split(text, func(piece string) {
		var bd bool
		scratch, bd = b.appendPiece(scratch[:0], piece)
		n += len(scratch)
		bounded = bounded || bd
	})
	return n, bounded
}

func (b *bpe) encode(ids []int, text string) ([]int, bool) {
	bounded := false
	b.split(text, func(piece string) {
		var bd bool
		ids, bd = b.appendPiece(ids, piece)
		bounded = bounded || bd
	})
	return ids, bounded
}

// split calls f with each pre-token of text, in order, as the encoding's
// pattern finds them: in one pass for ASCII text, else with the pattern.
func (b *bpe) split(text string, f func(piece string)) {
	if b.ascii != nil && isASCII(text) {
		b.ascii(text, f)
		return
	}
	b.splitPattern(text, f)
}

// splitPattern is split by the pattern. regexp2 matches runes; the pieces
// handed to f are substrings of text (of text with each invalid byte
// replaced by U+FFFD, when it is not valid UTF-8, which is what tiktoken-go
// encodes).
func (b *bpe) splitPattern(text string, f func(piece string)) {
	if !utf8.ValidString(text) {
		text = string([]rune(text))
	}
	runes := []rune(text)
	ri, pos := 0, 0 // a rune index and its byte offset in text
	m, err := b.pat.FindRunesMatch(runes)
	for m != nil && err == nil {
		for ri < m.Index {
			pos += utf8.RuneLen(runes[ri])
			ri++
		}
		start := pos
		for ri < m.Index+m.Length {
			pos += utf8.RuneLen(runes[ri])
			ri++
		}
		f(text[start:pos])
		m, err = b.pat.FindNextMatch(m)
	}
}

// appendPiece appends the ids of one pre-token to ids; bounded says it was
// longer than MaxExactPiece and merged in pieces.
func (b *bpe) appendPiece(ids []int, piece string) ([]int, bool) {
	bounded := false
	for len(piece) > MaxExactPiece {
		cut := MaxExactPiece
		for cut > 0 && !utf8.RuneStart(piece[cut]) {
			cut--
		}
		if cut == 0 {
			cut = MaxExactPiece
		}
		ids = b.appendExact(ids, piece[:cut])
		piece = piece[cut:]
		bounded = true
	}
	return b.appendExact(ids, piece), bounded
}

// appendExact appends the ids of piece, merged whole.
func (b *bpe) appendExact(ids []int, piece string) []int {
	if len(piece) <= b.maxTokenLen {
		if id, ok := b.ranks[piece]; ok {
			return append(ids, id)
		}
	}
	if len(piece) <= smallPiece {
		return b.mergeSmall(ids, piece)
	}
	return b.mergeHeap(ids, piece)
}

// rank returns the rank of s as a token, or noRank.
func (b *bpe) rank(s string) int32 {
	if len(s) > b.maxTokenLen {
		return noRank
	}
	if r, ok := b.ranks[s]; ok {
		return int32(r)
	}
	return noRank
}

// mergeSmall is tiktoken's byte-pair merge as written in its reference
// implementation: start from single bytes and, while some pair of adjacent
// parts is a token, merge the leftmost pair of lowest rank. Each round
// scans every part, so it is quadratic; it serves pieces of at most
// smallPiece bytes without allocating.
func (b *bpe) mergeSmall(ids []int, piece string) []int {
	type part struct{ start, rank int32 }
	var buf [smallPiece + 1]part
	parts := buf[:len(piece)+1]
	for i := range parts {
		parts[i] = part{int32(i), noRank}
	}
	pairRank := func(i int) int32 {
		if i+2 < len(parts) {
			return b.rank(piece[parts[i].start:parts[i+2].start])
		}
		return noRank
	}
	for i := 0; i+2 < len(parts); i++ {
		parts[i].rank = pairRank(i)
	}
	for len(parts) > 1 {
		minRank, at := int32(noRank), -1
		for i := 0; i+1 < len(parts); i++ {
			if parts[i].rank < minRank {
				minRank, at = parts[i].rank, i
			}
		}
		if at < 0 {
			break
		}
		parts = append(parts[:at+1], parts[at+2:]...)
		parts[at].rank = pairRank(at)
		if at > 0 {
			parts[at-1].rank = pairRank(at - 1)
		}
	}
	for i := 0; i+1 < len(parts); i++ {
		ids = append(ids, b.ranks[piece[parts[i].start:parts[i+1].start]])
	}
	return ids
}

// mergeHeap makes the same merges as mergeSmall in O(n log n): the parts
// are a linked list indexed by their first byte, and a min-heap holds the
// candidate pairs keyed by (rank, first byte), so the heap's minimum is the
// leftmost pair of lowest rank, as in the quadratic scan. A merge changes
// the pairs of the merged part and of its left neighbour; their new ranks
// are pushed and the old entries are dropped when popped (an entry is
// current when its part is alive and still has that rank: a part's pair
// only grows, so its rank never comes back to an old value).
func (b *bpe) mergeHeap(ids []int, piece string) []int {
	n := int32(len(piece))
	next := make([]int32, n) // first byte of the next part; n after the last
	prev := make([]int32, n) // first byte of the previous part; -1 before the first
	rank := make([]int32, n) // rank of the part starting here joined with the next; noRank if none or dead
	h := make(pairHeap, 0, n)
	for i := range n {
		next[i], prev[i] = i+1, i-1
	}
	pairRank := func(i int32) int32 {
		j := next[i]
		if j >= n {
			return noRank
		}
		return b.rank(piece[i:next[j]])
	}
	for i := range n {
		rank[i] = pairRank(i)
		if rank[i] != noRank {
			h = append(h, pairKey(rank[i], i))
		}
	}
	h.init()
	for len(h) > 0 {
		k := h.pop()
		r, i := int32(k>>32), int32(uint32(k))
		if rank[i] != r {
			continue // stale: the part died or its pair changed
		}
		j := next[i]
		next[i] = next[j]
		if next[j] < n {
			prev[next[j]] = i
		}
		rank[j] = noRank
		if rank[i] = pairRank(i); rank[i] != noRank {
			h.push(pairKey(rank[i], i))
		}
		if p := prev[i]; p >= 0 {
			if rank[p] = pairRank(p); rank[p] != noRank {
				h.push(pairKey(rank[p], p))
			}
		}
	}
	for i := int32(0); i < n; i = next[i] {
		ids = append(ids, b.ranks[piece[i:next[i]]])
	}
	return ids
}

func pairKey(rank, start int32) uint64 { return uint64(rank)<<32 | uint64(uint32(start)) }

// pairHeap is a 4-ary min-heap of pair keys: half the depth of a binary
// heap, and a node's children share a cache line.
type pairHeap []uint64

func (h pairHeap) init() {
	for i := (len(h) - 2) / 4; i >= 0; i-- {
		h.down(i)
	}
}

func (h *pairHeap) push(k uint64) {
	*h = append(*h, k)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 4
		if s[p] <= k {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = k
}

func (h *pairHeap) pop() uint64 {
	s := *h
	k := s[0]
	last := len(s) - 1
	s[0] = s[last]
	*h = s[:last]
	h.down(0)
	return k
}

func (h pairHeap) down(i int) {
	n := len(h)
	if n == 0 {
		return
	}
	k := h[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m, mk := c, h[c]
		for j := c + 1; j < min(c+4, n); j++ {
			if h[j] < mk {
				m, mk = j, h[j]
			}
		}
		if k <= mk {
			break
		}
		h[i] = mk
		i = m
	}
	h[i] = k
}

// VocabSize returns the number of ordinary tokens: ids 0..VocabSize()-1
// each decode to a non-empty byte string, and none of them is special.
func (b *bpe) VocabSize() int { return b.vocab }
