package tokenizer

// These tests prove the O(n log n) merge exact: it must give the same ids
// as tiktoken-go's quadratic merge (a port of OpenAI's reference) on every
// text, ordinary or not.

import (
	"encoding/base64"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	tiktoken "github.com/pkoukk/tiktoken-go"
)

// refs holds, per encoding, tiktoken-go's encoder built on the same ranks
// and pattern: the reference the new merge is checked against.
var refs sync.Map // name → func() (*tiktoken.Tiktoken, error)

func loadBPE(t testing.TB, name string) *bpe {
	t.Helper()
	tok, err := Get(name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	return tok.(*bpe)
}

func reference(t testing.TB, name string) *tiktoken.Tiktoken {
	t.Helper()
	b := loadBPE(t, name)
	f, _ := refs.LoadOrStore(name, sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
		enc := encodings()[name]
		core, err := tiktoken.NewCoreBPE(b.ranks, enc.special, enc.pattern)
		if err != nil {
			return nil, err
		}
		return tiktoken.NewTiktoken(core, nil, nil), nil
	}))
	ref, err := f.(func() (*tiktoken.Tiktoken, error))()
	if err != nil {
		t.Fatalf("%s: reference: %v", name, err)
	}
	return ref
}

// checkSame fails t when b encodes text differently from the reference, or
// when Count, CountBounded or Decode disagree with the ids.
func checkSame(t testing.TB, name, text string) {
	t.Helper()
	b := loadBPE(t, name)
	want := reference(t, name).EncodeOrdinary(text)
	got := b.Encode(text)
	if len(want) == 0 {
		want = nil
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: Encode(%.80q) (%d bytes)\n got %d ids %v\nwant %d ids %v", name, text, len(text), len(got), head(got), len(want), head(want))
	}
	if n, bounded := b.CountBounded(text); n != len(want) || bounded {
		t.Fatalf("%s: CountBounded(%.80q) = %d, %v; want %d, false", name, text, n, bounded, len(want))
	}
	if d := b.Decode(got); d != reference(t, name).Decode(want) {
		t.Fatalf("%s: Decode(Encode(%.80q)) = %.80q", name, text, d)
	}
}

func head(ids []int) []int { return ids[:min(len(ids), 20)] }

func corpus(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestEncodeMatchesReference compares the two merges on ordinary text in
// many languages, code, JSON and whitespace: line by line and whole.
func TestEncodeMatchesReference(t *testing.T) {
	text := corpus(t)
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			checkSame(t, name, text)
			for line := range strings.Lines(text) {
				checkSame(t, name, line)
				checkSame(t, name, strings.TrimSpace(line))
			}
		})
	}
}

// TestLongPiecesMatchReference compares the merges on single pre-tokens
// long enough to take the heap merge but short enough for the quadratic
// reference to finish: the runs that the heap exists for.
func TestLongPiecesMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	raw := make([]byte, 3000)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	b64 := base64.StdEncoding.EncodeToString(raw)
	letters := make([]byte, 3000)
	for i := range letters {
		letters[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[r.IntN(52)]
	}
	texts := map[string]string{
		"a-run":        strings.Repeat("a", 4000),
		"ab-run":       strings.Repeat("ab", 2000),
		"abc-run":      strings.Repeat("abc", 1500),
		"upper-run":    strings.Repeat("Q", 3000),
		"letters":      string(letters),
		"base64":       b64,
		"hex":          strings.Repeat("deadbeef0123456789abcdef", 120),
		"cjk":          strings.Repeat("人工智能正在改变我们的生活方式", 60),
		"kana":         strings.Repeat("ひらがなカタカナ", 150),
		"thai":         strings.Repeat("ภาษาไทยไม่มีช่องว่างระหว่างคำ", 40),
		"punct":        strings.Repeat("!?.,;:", 500),
		"json-min":     strings.Repeat(`{"a":[1,2,"x"],"b":{"c":null}},`, 100),
		"spaces":       strings.Repeat(" ", 3000) + "x",
		"newlines":     strings.Repeat("\n", 3000),
		"mixed-ws":     strings.Repeat(" \t\n\u00a0", 700),
		"digits":       strings.Repeat("1234567890", 300),
		"marks":        strings.Repeat("e\u0301", 1500),
		"emoji":        strings.Repeat("🚀🔥👍🏽", 300),
		"word-chunks":  strings.Repeat("supercalifragilistic", 200),
		"smallPiece":   strings.Repeat("x", smallPiece),
		"smallPiece+1": strings.Repeat("xy", smallPiece/2) + "z",
	}
	for _, name := range Names() {
		for k, text := range texts {
			t.Run(name+"/"+k, func(t *testing.T) {
				checkSame(t, name, text)
			})
		}
	}
}

// TestMergeHeapMatchesSmall compares the two merges of this package on
// random byte strings, each of which is merged as a single piece.
func TestMergeHeapMatchesSmall(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2))
	alphabets := []string{"ab", "abc", "aeiou ", "0123456789", "abcdefghijklmnopqrstuvwxyz", "日本語", "\x00\xff\x80"}
	for _, name := range Names() {
		b := loadBPE(t, name)
		for i := range 3000 {
			alpha := alphabets[i%len(alphabets)]
			n := 1 + r.IntN(smallPiece)
			var sb strings.Builder
			for sb.Len() < n {
				sb.WriteByte(alpha[r.IntN(len(alpha))])
			}
			piece := sb.String()
			small := b.mergeSmall(nil, piece)
			heap := b.mergeHeap(nil, piece)
			if !slices.Equal(small, heap) {
				t.Fatalf("%s: piece %q:\nmergeSmall %v\nmergeHeap  %v", name, piece, small, heap)
			}
		}
	}
}

// FuzzEncodeMatchesReference checks the merge against tiktoken-go's on
// arbitrary text, and the heap merge against the scan on each pre-token.
func FuzzEncodeMatchesReference(f *testing.F) {
	for line := range strings.Lines(corpus(f)) {
		f.Add(line)
	}
	f.Add(strings.Repeat("a", 300))
	f.Add("\xff\xfe invalid \xc3 utf-8")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 2048 {
			text = text[:2048]
		}
		for _, name := range Names() {
			checkSame(t, name, text)
			b := loadBPE(t, name)
			b.split(text, func(piece string) {
				if len(piece) > smallPiece {
					return
				}
				if s, h := b.mergeSmall(nil, piece), b.mergeHeap(nil, piece); !slices.Equal(s, h) {
					t.Fatalf("%s: piece %q: mergeSmall %v, mergeHeap %v", name, piece, s, h)
				}
			})
		}
	})
}
