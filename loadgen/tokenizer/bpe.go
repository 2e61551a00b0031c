package tokenizer

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	tiktoken "github.com/pkoukk/tiktoken-go"
)

// Count memo: streamed frames are short and repeat a lot (one or a few
// tokens each), and tiktoken-go spends microseconds and dozens of
// allocations per call, so Count remembers the answer for short texts.
// The memo is bounded: once full it stops growing and misses cost the
// same as without it.
const (
	memoMaxLen     = 64      // bytes; longer texts are never memoized
	memoMaxEntries = 1 << 16 // ~10 MB at most per encoding
	memoShards     = 32
)

// bpe is a tiktoken encoding. tiktoken-go's encoder only reads its maps
// after construction and its regexp2 patterns are documented safe for
// concurrent use, so the encoder needs no lock; the Count memo is sharded
// maps under read-write locks.
type bpe struct {
	name  string
	enc   *tiktoken.Tiktoken
	vocab int

	seed    maphash.Seed
	entries atomic.Int64
	shards  [memoShards]memoShard
}

type memoShard struct {
	mu sync.RWMutex
	m  map[string]int32
	_  [32]byte // pad to 64 bytes: shards on separate cache lines
}

func newBPE(name string, enc *tiktoken.Tiktoken, vocab int) *bpe {
	b := &bpe{name: name, enc: enc, vocab: vocab, seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].m = make(map[string]int32)
	}
	return b
}

func (b *bpe) Name() string { return b.name }

// Encode returns the token ids of text. Special-token text such as
// "<|endoftext|>" is encoded as ordinary text, as a server does with user
// content.
func (b *bpe) Encode(text string) []int {
	if text == "" {
		return nil
	}
	return b.enc.EncodeOrdinary(text)
}

// Decode returns the text of ids; ids outside the vocabulary decode to
// nothing. Special-token ids decode to their text.
func (b *bpe) Decode(ids []int) string { return b.enc.Decode(ids) }

// Count returns len(Encode(text)). Results for texts of up to 64 bytes are
// memoized (bounded), which makes counting streamed frames cheap.
func (b *bpe) Count(text string) int {
	if text == "" {
		return 0
	}
	if len(text) > memoMaxLen {
		return len(b.enc.EncodeOrdinary(text))
	}
	sh := &b.shards[maphash.String(b.seed, text)%memoShards]
	sh.mu.RLock()
	c, ok := sh.m[text]
	sh.mu.RUnlock()
	if ok {
		return int(c)
	}
	n := len(b.enc.EncodeOrdinary(text))
	if b.entries.Load() < memoMaxEntries {
		sh.mu.Lock()
		if _, ok := sh.m[text]; !ok {
			sh.m[strings.Clone(text)] = int32(n) // text may alias a large buffer
			b.entries.Add(1)
		}
		sh.mu.Unlock()
	}
	return n
}

// VocabSize returns the number of ordinary tokens: ids 0..VocabSize()-1
// each decode to a non-empty byte string, and none of them is special.
func (b *bpe) VocabSize() int { return b.vocab }
