package tokenizer_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

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
