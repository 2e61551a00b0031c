package prompt_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
)

var (
	buildersMu sync.Mutex
	builders   = map[string]*prompt.Builder{}
)

// builder returns a shared Builder for a built-in tokenizer.
func builder(t testing.TB, name string) (*prompt.Builder, tokenizer.Tokenizer) {
	t.Helper()
	tok, err := tokenizer.Get(name)
	if err != nil {
		t.Fatalf("tokenizer.Get(%q): %v", name, err)
	}
	buildersMu.Lock()
	defer buildersMu.Unlock()
	b, ok := builders[name]
	if !ok {
		if b, err = prompt.New(tok); err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		builders[name] = b
	}
	return b, tok
}

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// checkText fails unless s is words of lower-case ASCII letters separated by
// single spaces.
func checkText(t *testing.T, s string) {
	t.Helper()
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  ") {
		t.Fatalf("badly spaced text %.60q", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && (c < 'a' || c > 'z') {
			t.Fatalf("byte %q at %d in %.60q", c, i, s)
		}
	}
}

// lengths returns count lengths in [1, 32000]: 1, 2, 3 and 32000, then
// log-uniform, so every order of magnitude is well covered.
func lengths(count int) []int {
	ns := []int{1, 2, 3, 32000}
	r := seeded(7)
	for len(ns) < count {
		ns = append(ns, min(int(math.Exp(r.Float64()*math.Log(32000)))+1, 32000))
	}
	return ns
}

// TestBuildExactLength re-encodes 1,000 prompts per tokenizer (about 3
// million tokens each). Encoding dominates: with -short, or under the race
// detector (which makes it about ten times slower and adds nothing here, as
// the test is sequential; TestConcurrentBuild covers races), fewer prompts.
func TestBuildExactLength(t *testing.T) {
	count := 1000
	switch {
	case testing.Short():
		count = 100
	case raceEnabled:
		count = 200
	}
	for _, name := range tokenizer.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, tok := builder(t, name)
			r := seeded(42)
			for _, n := range lengths(count) {
				text := b.Build(r, n)
				if got := tok.Count(text); got != n {
					t.Fatalf("Build(%d) encodes to %d tokens: %.80q", n, got, text)
				}
				checkText(t, text)
			}
		})
	}
}

func TestBuildZeroAndNegative(t *testing.T) {
	b, _ := builder(t, tokenizer.CL100kBase)
	if s := b.Build(seeded(1), 0); s != "" {
		t.Errorf("Build(0) = %q, want empty", s)
	}
	defer func() {
		if recover() == nil {
			t.Error("Build(-1) did not panic")
		}
	}()
	b.Build(seeded(1), -1)
}

func TestBuildDeterministic(t *testing.T) {
	for _, name := range tokenizer.Names() {
		t.Run(name, func(t *testing.T) {
			b, tok := builder(t, name)
			for _, n := range []int{1, 2, 50, 4000} {
				a, c := b.Build(seeded(99), n), b.Build(seeded(99), n)
				if a != c {
					t.Fatalf("same seed, n=%d: different texts\n%.60q\n%.60q", n, a, c)
				}
			}
			// Different seeds, and successive draws from one generator,
			// differ from the first token on.
			firstTok := func(s string) int { return tok.Encode(s)[0] }
			if firstTok(b.Build(seeded(1), 10)) == firstTok(b.Build(seeded(2), 10)) {
				t.Error("seeds 1 and 2 give the same first token")
			}
			seeds, draws := map[int]bool{}, map[int]bool{}
			r := seeded(3)
			for s := range uint64(200) {
				seeds[firstTok(b.Build(seeded(s), 5))] = true
				draws[firstTok(b.Build(r, 5))] = true
			}
			// 200 draws from thousands of first words: a few collisions at most.
			if len(seeds) < 190 || len(draws) < 190 {
				t.Errorf("first tokens of 200 prompts: %d distinct across seeds, %d across draws; want >= 190",
					len(seeds), len(draws))
			}
		})
	}
}

func TestBuildWithPrefixOwn(t *testing.T) {
	for _, name := range tokenizer.Names() {
		t.Run(name, func(t *testing.T) {
			b, tok := builder(t, name)
			r := seeded(5)
			for _, p := range []int{1, 2, 7, 100, 2048} {
				prefix := b.Build(r, p)
				for _, n := range []int{p + 1, p + 2, p + 50, 2*p + 7} {
					text := b.BuildWithPrefix(prefix, r, n)
					if !strings.HasPrefix(text, prefix) {
						t.Fatalf("p=%d n=%d: result does not start with prefix", p, n)
					}
					if got := tok.Count(text); got != n {
						t.Fatalf("p=%d n=%d: encodes to %d tokens", p, n, got)
					}
					checkText(t, text)
				}
				// Two draws share the prefix's tokens and differ right after.
				a := tok.Encode(b.BuildWithPrefix(prefix, seeded(1), p+10))
				c := tok.Encode(b.BuildWithPrefix(prefix, seeded(2), p+10))
				if a[p] == c[p] {
					t.Errorf("p=%d: seeds 1 and 2 give the same token after the prefix", p)
				}
				// Prefix alone has n tokens or more: kept whole, one word added.
				for _, n := range []int{p, p - 1, 1} {
					if n < 1 {
						continue
					}
					text := b.BuildWithPrefix(prefix, r, n)
					if !strings.HasPrefix(text, prefix) {
						t.Fatalf("p=%d n=%d: result does not start with prefix", p, n)
					}
					if got := tok.Count(text); got != p+1 {
						t.Fatalf("p=%d n=%d: encodes to %d tokens, want p+1 = %d", p, n, got, p+1)
					}
				}
			}
		})
	}
}

func TestBuildWithPrefixForeign(t *testing.T) {
	prefixes := []string{
		"You are a helpful assistant.",
		"System:\n",
		"trailing spaces   ",
		"trailing newline and space\n ",
		"tab\t",
		"Hello",
		"HELLO",
		"apple  banana", // looks like words, but two spaces
		"12345",
		"日本語のテキスト",
		"emoji 🚀",
		"special <|endoftext|>",
		"it'",
		strings.Repeat("Lorem ipsum dolor sit amet, consectetur. ", 100),
	}
	for _, name := range tokenizer.Names() {
		t.Run(name, func(t *testing.T) {
			b, tok := builder(t, name)
			r := seeded(11)
			for _, prefix := range prefixes {
				pt := tok.Count(prefix)
				for _, n := range []int{pt + 1, pt + 2, pt + 10, pt + 500} {
					text := b.BuildWithPrefix(prefix, r, n)
					if !strings.HasPrefix(text, prefix) {
						t.Fatalf("prefix %.30q n=%d: result does not start with prefix", prefix, n)
					}
					if got := tok.Count(text); got != n {
						t.Fatalf("prefix %.30q n=%d: encodes to %d tokens", prefix, n, got)
					}
				}
				for _, n := range []int{pt, 1} {
					text := b.BuildWithPrefix(prefix, r, n)
					// Prefix alone has n tokens or more: kept whole, one word added.
					if !strings.HasPrefix(text, prefix) || len(text) <= len(prefix) || tok.Count(text) < n {
						t.Fatalf("prefix %.30q n=%d: got %.60q, want prefix and one word", prefix, n, text)
					}
				}
			}
		})
	}
}

func TestBuildWithEmptyPrefix(t *testing.T) {
	b, _ := builder(t, tokenizer.O200kBase)
	if a, c := b.BuildWithPrefix("", seeded(8), 33), b.Build(seeded(8), 33); a != c {
		t.Errorf("BuildWithPrefix(\"\") = %.40q, Build = %.40q", a, c)
	}
}

// TestConcurrentBuild shares one Builder between goroutines; run with -race.
func TestConcurrentBuild(t *testing.T) {
	b, tok := builder(t, tokenizer.CL100kBase)
	prefix := b.Build(seeded(0), 64)
	var wg sync.WaitGroup
	for g := range uint64(8) {
		wg.Go(func() {
			r := seeded(g)
			for i := range 20 {
				n := 65 + i*7
				if c := tok.Count(b.BuildWithPrefix(prefix, r, n)); c != n {
					t.Errorf("goroutine %d: %d tokens, want %d", g, c, n)
				}
			}
		})
	}
	wg.Wait()
}

// empty is a tokenizer with no vocabulary at all.
type empty struct{}

func (empty) Name() string          { return "empty" }
func (empty) Encode(string) []int   { return nil }
func (empty) Decode([]int) string   { return "" }
func (empty) Count(text string) int { return 0 }

func TestNewErrors(t *testing.T) {
	if _, err := prompt.New(nil); err == nil {
		t.Error("New(nil): no error")
	}
	_, err := prompt.New(empty{})
	if err == nil || !strings.Contains(err.Error(), `"empty"`) {
		t.Errorf("New(empty tokenizer) error = %v, want one naming the tokenizer", err)
	}
}
