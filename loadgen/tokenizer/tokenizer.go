// Package tokenizer counts and builds text in a model's tokens.
//
// The built-in encodings (cl100k_base, o200k_base) are OpenAI's tiktoken
// encodings: their BPE files are embedded by
// github.com/pkoukk/tiktoken-go-loader, so nothing is fetched from the
// network, and their pre-tokenizer patterns are those of
// github.com/pkoukk/tiktoken-go. The byte-pair merge is this package's own:
// it gives the same tokens as tiktoken's, but costs O(n log n) in the
// length of a pre-token instead of O(n²), so a long run without spaces
// (one character repeated, base64, minified JSON, CJK text) is counted in
// well under a second per MiB instead of never. ASCII text is split into
// pre-tokens in one pass, the rest with the pattern (regexp2). Loading an
// encoding parses its BPE file once per process; Get caches the result per
// name, and every Tokenizer is safe for concurrent use.
package tokenizer

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// Tokenizer counts and builds text in a model's tokens.
// Implementations are safe for concurrent use by many goroutines.
//
// The built-in tokenizers also have CountBounded(text) (n int, bounded
// bool), which says whether a run longer than MaxExactPiece was counted in
// pieces (loadgen.BoundedCounter).
type Tokenizer interface {
	Name() string
	Encode(text string) []int
	Decode(ids []int) string
	Count(text string) int // len(Encode(text)) but may be faster
}

// Names of the built-in encodings.
const (
	CL100kBase = "cl100k_base"
	O200kBase  = "o200k_base"
)

// ErrUnknown is wrapped by Get when the name is neither a built-in encoding
// nor a path to a tokenizer.json.
var ErrUnknown = errors.New("unknown (want cl100k_base, o200k_base, or a path to tokenizer.json)")

// ErrUnsupported is wrapped by Get for a Hugging Face tokenizer.json: no
// pure-Go reader handles current byte-level BPE tokenizer files yet.
var ErrUnsupported = errors.New("a Hugging Face tokenizer.json is not supported (no pure-Go reader handles current byte-level BPE files); use cl100k_base or o200k_base: output counts still come from the server's usage")

// encoding describes a built-in encoding: its BPE file (embedded by
// tiktoken-go-loader), its pre-tokenizer pattern and special tokens (as
// tiktoken-go defines them), and its number of ordinary tokens (ids
// 0..vocab-1 are all ordinary).
type encoding struct {
	file    string
	pattern string
	ascii   func(text string, f func(piece string)) // pattern's split of ASCII text
	special map[string]int
	vocab   int
}

// encodings returns the built-in encodings by name.
func encodings() map[string]encoding {
	return map[string]encoding{
		CL100kBase: {
			file:    "cl100k_base.tiktoken",
			ascii:   splitCL100k,
			pattern: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
			special: map[string]int{
				"<|endoftext|>":   100257,
				"<|fim_prefix|>":  100258,
				"<|fim_middle|>":  100259,
				"<|fim_suffix|>":  100260,
				"<|endofprompt|>": 100276,
			},
			vocab: 100256,
		},
		O200kBase: {
			file:  "o200k_base.tiktoken",
			ascii: splitO200k,
			pattern: strings.Join([]string{
				`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
				`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
				`\p{N}{1,3}`,
				` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
				`\s*[\r\n]+`,
				`\s+(?!\S)`,
				`\s+`,
			}, "|"),
			special: map[string]int{
				"<|endoftext|>":   199999,
				"<|endofprompt|>": 200018,
			},
			vocab: 199998,
		},
	}
}

// Names returns the names of the built-in encodings, sorted.
func Names() []string {
	return []string{CL100kBase, O200kBase}
}

// entry loads one encoding exactly once.
type entry struct {
	once sync.Once
	tok  *bpe
	err  error
}

var entries = map[string]*entry{CL100kBase: {}, O200kBase: {}} // keys fixed at init; values load once

// Get returns the tokenizer called name: a built-in encoding (see Names) or,
// in the future, a path to a Hugging Face tokenizer.json. Built-in encodings
// are loaded on first use (parsing takes a few hundred milliseconds) and
// cached for the life of the process; Get is safe for concurrent use.
//
// A name that ends in ".json" or contains a path separator is taken as a
// path to a tokenizer.json and currently fails with ErrUnsupported. Any other
// unknown name fails with ErrUnknown.
func Get(name string) (Tokenizer, error) {
	e, ok := entries[name]
	if !ok {
		if strings.HasSuffix(name, ".json") || strings.ContainsAny(name, `/\`) {
			return nil, fmt.Errorf("tokenizer %q: %w", name, ErrUnsupported)
		}
		return nil, fmt.Errorf("tokenizer %q: %w", name, ErrUnknown)
	}
	e.once.Do(func() {
		e.tok, e.err = load(name)
	})
	if e.err != nil {
		return nil, e.err
	}
	return e.tok, nil
}

// load parses the built-in encoding called name.
func load(name string) (*bpe, error) {
	enc := encodings()[name]
	ranks, err := tiktokenloader.NewOfflineLoader().LoadTiktokenBpe(enc.file)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %q: load: %w", name, err)
	}
	b, err := newBPE(name, enc, ranks)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %q: load: %w", name, err)
	}
	return b, nil
}
