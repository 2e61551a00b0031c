// Package prompt builds synthetic prompts of an exact length in tokens.
//
// A prompt is a run of real words taken from the tokenizer's own vocabulary:
// a first word without a leading space, then words that each carry one
// leading space ("apple banana cherry"). Every word is exactly one token, and
// the tokenizer's pre-tokenizer splits text before each space-led run of
// letters, so a prompt of n words encodes to exactly n tokens. For the tiktoken
// encodings this follows from their split pattern; New also checks it on the
// whole word list and refuses a tokenizer for which it fails. Build therefore
// never re-encodes, and its cost is linear in n with one allocation.
//
// Every word is drawn from the caller's *rand.Rand: the same seed gives the
// same text, and two draws differ from their first token on (the first word
// is uniform over thousands of words), so requests do not share a
// prefix-cache block by accident.
package prompt

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
)

// Limits on the words taken from the vocabulary: lower-case ASCII letters
// only, so prompts are readable and contain no control characters, digits or
// punctuation.
const (
	minWordLen = 2
	maxWordLen = 12
	// scanGap ends the vocabulary scan of a tokenizer without VocabSize
	// after this many consecutive ids that decode to nothing.
	scanGap = 4096
	// minWords is the least number of words New accepts from a tokenizer.
	minWords = 256
)

// Builder builds prompts of an exact token length. It is immutable after New
// and safe for concurrent use; each goroutine passes its own *rand.Rand.
type Builder struct {
	tok   tokenizer.Tokenizer
	first []string // "word": one token at the start of a text
	words []string // " word": one token after a word
	// Sets of the letters of first and words, to recognise a prefix that
	// Build made and count it without encoding it.
	firstSet map[string]struct{}
	wordSet  map[string]struct{}
	mean, sd float64 // of the byte length of words
}

// New returns a Builder for tok. It scans tok's vocabulary (ids
// 0..VocabSize()-1 when tok has a VocabSize() int method, else until 4096
// consecutive ids decode to nothing), keeps the words described in the
// package doc, and checks that they encode independently. It takes 0.1 s
// (cl100k_base) to 0.5 s (o200k_base): build one Builder per tokenizer and
// share it.
func New(tok tokenizer.Tokenizer) (*Builder, error) {
	if tok == nil {
		return nil, errors.New("prompt: tokenizer is nil")
	}
	b := &Builder{
		tok:      tok,
		firstSet: make(map[string]struct{}),
		wordSet:  make(map[string]struct{}),
	}
	limit := -1 // scan until scanGap empty ids
	if v, ok := tok.(interface{ VocabSize() int }); ok {
		limit = v.VocabSize()
	}
	var ids []int
	one := make([]int, 1)
	for id, gap := 0, 0; id < limit || (limit < 0 && gap < scanGap); id++ {
		one[0] = id
		s := tok.Decode(one)
		if s == "" {
			gap++
			continue
		}
		gap = 0
		if !isWord(s) {
			continue
		}
		// The spaced form must be this one token on its own...
		if enc := tok.Encode(s); len(enc) != 1 || enc[0] != id {
			continue
		}
		b.words = append(b.words, s)
		b.wordSet[s[1:]] = struct{}{}
		ids = append(ids, id)
		// ...and the bare form, if also one token, may start a prompt.
		if tok.Count(s[1:]) == 1 {
			b.first = append(b.first, s[1:])
			b.firstSet[s[1:]] = struct{}{}
		}
	}
	if len(b.words) < minWords || len(b.first) < minWords {
		return nil, fmt.Errorf("prompt: tokenizer %q: found %d words and %d first words in its vocabulary, want at least %d of each",
			tok.Name(), len(b.words), len(b.first), minWords)
	}
	if err := b.check(ids); err != nil {
		return nil, err
	}
	var sum, sumSq float64
	for _, w := range b.words {
		sum += float64(len(w))
		sumSq += float64(len(w) * len(w))
	}
	b.mean = sum / float64(len(b.words))
	b.sd = math.Sqrt(max(sumSq/float64(len(b.words))-b.mean*b.mean, 0))
	return b, nil
}

// check encodes all words in one text, in a fixed shuffled order, and each
// first word followed by a word, and demands one token per word.
func (b *Builder) check(ids []int) error {
	r := rand.New(rand.NewPCG(1, 2))
	order := r.Perm(len(b.words))
	var sb strings.Builder
	sb.WriteString(b.first[0])
	want := append(make([]int, 0, len(b.words)+1), b.tok.Encode(b.first[0])...)
	for _, i := range order {
		sb.WriteString(b.words[i])
		want = append(want, ids[i])
	}
	got := b.tok.Encode(sb.String())
	if len(got) != len(want) {
		return fmt.Errorf("prompt: tokenizer %q: %d words encode to %d tokens together: its pre-tokenizer merges across words",
			b.tok.Name(), len(want), len(got))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("prompt: tokenizer %q: word %d of the check encodes to %d, want %d: its pre-tokenizer merges across words",
				b.tok.Name(), i, got[i], want[i])
		}
	}
	for i, f := range b.first {
		w := b.words[order[i%len(order)]]
		if c := b.tok.Count(f + w); c != 2 {
			return fmt.Errorf("prompt: tokenizer %q: %q encodes to %d tokens, want 2", b.tok.Name(), f+w, c)
		}
	}
	return nil
}

// isWord reports whether s is a space followed by minWordLen..maxWordLen
// lower-case ASCII letters.
func isWord(s string) bool {
	if len(s) < 1+minWordLen || len(s) > 1+maxWordLen || s[0] != ' ' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// Tokenizer returns the tokenizer the Builder counts in.
func (b *Builder) Tokenizer() tokenizer.Tokenizer { return b.tok }

// Build returns text that b's tokenizer encodes to exactly n tokens: n words
// drawn with r, the first without a leading space. The same r state gives
// the same text. Build(r, 0) returns ""; Build panics if n < 0.
//
// Its cost is linear in n with one allocation: tens of nanoseconds per
// token (about 40 µs for 1,000 tokens), as nothing is encoded.
func (b *Builder) Build(r *rand.Rand, n int) string {
	if n < 0 {
		panic(fmt.Sprintf("prompt: Build with negative length %d", n))
	}
	if n == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(b.size(n))
	sb.WriteString(b.first[r.IntN(len(b.first))])
	b.appendWords(&sb, r, n-1)
	return sb.String()
}

// size returns a capacity that k random words exceed with negligible
// probability (mean plus six standard deviations of their total length), so
// building a prompt allocates once.
func (b *Builder) size(k int) int {
	fk := float64(k)
	return int(fk*b.mean+6*b.sd*math.Sqrt(fk)) + 1 + maxWordLen
}

func (b *Builder) appendWords(sb *strings.Builder, r *rand.Rand, k int) {
	for range k {
		sb.WriteString(b.words[r.IntN(len(b.words))])
	}
}

// BuildWithPrefix returns a prompt that starts with prefix and is followed
// by words drawn with r, so that the whole encodes to exactly n tokens.
//
// prefix is normally a shared prefix made by Build of a Builder on the same
// tokenizer: it is then counted without encoding it (it is split into words)
// and the result is exact by construction. Any other prefix is encoded, and
// the words appended are adjusted until the whole encodes to exactly n
// tokens; that costs one or two encodings of the whole prompt (about a
// millisecond per thousand tokens).
//
// If prefix alone already has n tokens or more, no prompt of n tokens starts
// with prefix and has a word after it. BuildWithPrefix then keeps prefix
// whole and appends one word, so the result is longer than n: for a prefix
// made by Build it has exactly Count(prefix)+1 tokens. It still differs
// between draws right after the prefix. Callers that must know the exact
// length should keep n above the prefix's length (a profile check) or count
// the result.
//
// An empty prefix gives Build(r, n). BuildWithPrefix panics if n < 0.
func (b *Builder) BuildWithPrefix(prefix string, r *rand.Rand, n int) string {
	if n < 0 {
		panic(fmt.Sprintf("prompt: BuildWithPrefix with negative length %d", n))
	}
	if prefix == "" {
		return b.Build(r, n)
	}
	if pt, ok := b.ownLen(prefix); ok {
		k := max(n-pt, 1)
		var sb strings.Builder
		sb.Grow(len(prefix) + b.size(k))
		sb.WriteString(prefix)
		b.appendWords(&sb, r, k)
		return sb.String()
	}
	return b.foreign(prefix, r, n)
}

// ownLen returns the number of words of prefix if it is made of words b
// uses, separated by single spaces, the first one a first word: such text
// encodes to one token per word.
func (b *Builder) ownLen(prefix string) (int, bool) {
	n := 0
	for w := range strings.SplitSeq(prefix, " ") {
		set := b.wordSet
		if n == 0 {
			set = b.firstSet
		}
		if _, ok := set[w]; !ok {
			return 0, false
		}
		n++
	}
	return n, true
}

// foreign appends words to an arbitrary prefix. A word " letters" after any
// text forms its own pre-token, so appending k >= 1 words adds g+k tokens
// for a g fixed by the prefix's end (the last pre-token of prefix may change
// when a word follows it): one correction after the first count is exact.
func (b *Builder) foreign(prefix string, r *rand.Rand, n int) string {
	pt := b.tok.Count(prefix)
	k := max(n-pt, 1)
	words := make([]string, k, k+4)
	for i := range words {
		words[i] = b.words[r.IntN(len(b.words))]
	}
	for range 4 {
		text := prefix + strings.Join(words, "")
		c := b.tok.Count(text)
		if c == n {
			return text
		}
		want := len(words) + n - c
		if want < 1 {
			if len(words) == 1 {
				return text // prefix alone has n tokens or more
			}
			want = 1
		}
		for len(words) < want {
			words = append(words, b.words[r.IntN(len(b.words))])
		}
		words = words[:want]
	}
	// Unreachable for a pre-tokenizer that splits before " letters", which
	// New checked; a wrong length would silently skew every measurement.
	panic(fmt.Sprintf("prompt: tokenizer %q: cannot reach %d tokens after prefix %.40q", b.tok.Name(), n, prefix))
}
