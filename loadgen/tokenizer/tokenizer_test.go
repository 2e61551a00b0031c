package tokenizer_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
)

// netCalls counts HTTP requests made through http.DefaultTransport during the
// tests; tiktoken-go's default loader would use it to fetch BPE files.
var netCalls atomic.Int64

type refuseTransport struct{}

func (refuseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	netCalls.Add(1)
	return nil, fmt.Errorf("test: network access refused: %s", r.URL)
}

func TestMain(m *testing.M) {
	http.DefaultTransport = refuseTransport{}
	code := m.Run()
	if n := netCalls.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "tokenizer tried the network %d times\n", n)
		code = 1
	}
	os.Exit(code)
}

func get(t testing.TB, name string) tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Get(name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	return tok
}

func TestNames(t *testing.T) {
	want := []string{"cl100k_base", "o200k_base"}
	if got := tokenizer.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestGetCachesPerName(t *testing.T) {
	for _, name := range tokenizer.Names() {
		a, b := get(t, name), get(t, name)
		if a != b {
			t.Errorf("Get(%q) returned two different tokenizers", name)
		}
		if a.Name() != name {
			t.Errorf("Get(%q).Name() = %q", name, a.Name())
		}
	}
}

func TestGetErrors(t *testing.T) {
	tests := []struct {
		name    string
		wantIs  error
		wantMsg string
	}{
		{"x", tokenizer.ErrUnknown, `tokenizer "x": unknown (want cl100k_base, o200k_base, or a path to tokenizer.json)`},
		{"", tokenizer.ErrUnknown, `tokenizer "": unknown (want cl100k_base, o200k_base, or a path to tokenizer.json)`},
		{"p50k_base", tokenizer.ErrUnknown, `tokenizer "p50k_base": unknown (want cl100k_base, o200k_base, or a path to tokenizer.json)`},
		{"CL100K_BASE", tokenizer.ErrUnknown, `tokenizer "CL100K_BASE": unknown (want cl100k_base, o200k_base, or a path to tokenizer.json)`},
		{"models/llama/tokenizer.json", tokenizer.ErrUnsupported, ""},
		{"tokenizer.json", tokenizer.ErrUnsupported, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tokenizer.Get(tt.name)
			if err == nil {
				t.Fatalf("Get(%q) = %v, want error", tt.name, tok)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("Get(%q) error %q does not wrap %v", tt.name, err, tt.wantIs)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("Get(%q) error\n got %q\nwant %q", tt.name, err, tt.wantMsg)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.name)) {
				t.Errorf("error %q does not name the input", err)
			}
		})
	}
}

// Reference ids from OpenAI's tiktoken (Python).
func TestEncodeKnownIDs(t *testing.T) {
	tests := []struct {
		enc, text string
		want      []int
	}{
		{"cl100k_base", "hello world", []int{15339, 1917}},
		{"o200k_base", "hello world", []int{24912, 2375}},
		{"cl100k_base", "", nil},
		{"o200k_base", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.enc+"/"+tt.text, func(t *testing.T) {
			tok := get(t, tt.enc)
			if got := tok.Encode(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

var samples = []string{
	"",
	" ",
	"a",
	" the",
	"hello world",
	"Hello, world! How are you today?",
	"  leading and trailing spaces  ",
	"line one\nline two\r\n\n\ttabbed",
	"numbers 1234567890 and 3.14159",
	"unicode: naïve café, 日本語のテキスト, Ελληνικά, русский",
	"emoji 🚀🔥👍🏽 and ZWJ 👩‍👩‍👧",
	"special text <|endoftext|> and <|fim_prefix|> stay ordinary",
	"contractions: I'm, you're, it's, we'll, they'd, can't",
	"code: func main() { fmt.Println(\"hi\") } // done",
	strings.Repeat("long text with repetition ", 200),
}

func TestEncodeDecodeCount(t *testing.T) {
	for _, name := range tokenizer.Names() {
		tok := get(t, name)
		for _, s := range samples {
			ids := tok.Encode(s)
			if got := tok.Decode(ids); got != s {
				t.Errorf("%s: Decode(Encode(%q)) = %q", name, s, got)
			}
			// Twice: the second call may be answered from the memo.
			for range 2 {
				if c := tok.Count(s); c != len(ids) {
					t.Errorf("%s: Count(%q) = %d, len(Encode) = %d", name, s, c, len(ids))
				}
			}
		}
	}
}

func TestSpecialTextIsOrdinary(t *testing.T) {
	for _, name := range tokenizer.Names() {
		tok := get(t, name)
		if c := tok.Count("<|endoftext|>"); c < 2 {
			t.Errorf("%s: Count(<|endoftext|>) = %d, want it encoded as ordinary text (several tokens)", name, c)
		}
	}
}

func TestVocabSize(t *testing.T) {
	for _, name := range tokenizer.Names() {
		tok := get(t, name)
		vs, ok := tok.(interface{ VocabSize() int })
		if !ok {
			t.Fatalf("%s: no VocabSize method", name)
		}
		n := vs.VocabSize()
		for id := range n {
			if tok.Decode([]int{id}) == "" {
				t.Fatalf("%s: id %d < VocabSize %d decodes to nothing", name, id, n)
			}
		}
		if s := tok.Decode([]int{n}); s != "" {
			t.Errorf("%s: id VocabSize (%d) decodes to %q, want nothing", name, n, s)
		}
	}
}

// TestConcurrent runs Get, Encode, Decode and Count from many goroutines;
// run it with -race.
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			name := tokenizer.Names()[g%2]
			tok, err := tokenizer.Get(name)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 200 {
				s := samples[i%len(samples)] + fmt.Sprint(i%17)
				ids := tok.Encode(s)
				if tok.Decode(ids) != s || tok.Count(s) != len(ids) {
					t.Errorf("%s: round trip or count mismatch for %q", name, s)
					return
				}
			}
		})
	}
	wg.Wait()
}

// longRuns are texts with no break that the pre-tokenizer keeps as one
// piece (or as many pieces, for the digits and the JSON), the streams that
// made tiktoken-go's quadratic merge run for minutes: size bytes each.
func longRuns(size int) map[string]string {
	r := rand.New(rand.NewPCG(14, 3))
	raw := make([]byte, size)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	cut := func(s string) string {
		s = strings.Repeat(s, size/len(s)+1)[:size]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s
	}
	return map[string]string{
		"letters":  strings.Repeat("a", size),
		"upper":    strings.Repeat("Z", size),
		"base64":   base64.StdEncoding.EncodeToString(raw)[:size],
		"cjk":      cut("人工智能正在改变我们的生活方式"),
		"thai":     cut("ภาษาไทยไม่มีช่องว่างระหว่างคำ"),
		"digits":   strings.Repeat("7", size),
		"punct":    strings.Repeat("=", size),
		"spaces":   strings.Repeat(" ", size),
		"json-min": cut(`{"a":[1,2,"x"],"b":{"c":null}},`),
		"marks":    cut("e\u0301\u0301"),
	}
}

// TestLongRunsEnd counts 1 MiB runs of every kind (128 KiB under the race
// detector). The quadratic merge never returned for these (run with a
// generous -timeout); this test has no timing assertion, only that the
// count returns, agrees with Encode, and that Encode round-trips.
func TestLongRunsEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("1 MiB runs: skipped with -short")
	}
	for _, name := range tokenizer.Names() {
		tok := get(t, name)
		bc := tok.(interface {
			CountBounded(string) (int, bool)
		})
		for kind, text := range longRuns(longRunSize) {
			t.Run(name+"/"+kind, func(t *testing.T) {
				n, bounded := bc.CountBounded(text)
				if bounded {
					t.Errorf("CountBounded(%d bytes of %s) bounded, want exact (pieces of at most %d bytes are)", len(text), kind, tokenizer.MaxExactPiece)
				}
				ids := tok.Encode(text)
				if n != len(ids) || n == 0 {
					t.Errorf("CountBounded = %d, len(Encode) = %d", n, len(ids))
				}
				if tok.Decode(ids) != text {
					t.Errorf("Decode(Encode(%s)) differs from the text", kind)
				}
			})
		}
	}
}

// TestCountBounded checks that a pre-token longer than MaxExactPiece is
// counted in pieces and reported, that the count stays close, and that a
// text with no such piece is never reported.
func TestCountBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("2 MiB runs: skipped with -short and under the race detector")
	}
	tests := []struct {
		name        string
		text        string
		wantBounded bool
	}{
		{"ordinary", strings.Repeat("long text with repetition ", 100_000), false},
		{"run at the bound", strings.Repeat("a", tokenizer.MaxExactPiece), false},
		{"run over the bound", strings.Repeat("a", tokenizer.MaxExactPiece+1), true},
		{"cjk over the bound", strings.Repeat("日本語", tokenizer.MaxExactPiece/9+1), true},
		{"two runs", strings.Repeat("b", 2*tokenizer.MaxExactPiece) + " " + strings.Repeat("c", 5), true},
	}
	for _, name := range tokenizer.Names() {
		tok := get(t, name)
		bc := tok.(interface {
			CountBounded(string) (int, bool)
		})
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				n, bounded := bc.CountBounded(tt.text)
				if bounded != tt.wantBounded {
					t.Errorf("CountBounded bounded = %v, want %v", bounded, tt.wantBounded)
				}
				ids := tok.Encode(tt.text)
				if n != len(ids) || n != tok.Count(tt.text) {
					t.Errorf("CountBounded = %d, Count = %d, len(Encode) = %d", n, tok.Count(tt.text), len(ids))
				}
				if tok.Decode(ids) != tt.text {
					t.Error("Decode(Encode(text)) differs from the text")
				}
			})
		}
	}
}
