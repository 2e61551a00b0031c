// Package tokenizer counts and builds text in a model's tokens.
//
// The built-in encodings (cl100k_base, o200k_base) come from
// github.com/pkoukk/tiktoken-go with the BPE files embedded by
// github.com/pkoukk/tiktoken-go-loader: nothing is fetched from the network.
// Loading an encoding parses its BPE file once per process; Get caches the
// result per name, and every Tokenizer is safe for concurrent use.
package tokenizer

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	tiktoken "github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// Tokenizer counts and builds text in a model's tokens.
// Implementations are safe for concurrent use by many goroutines.
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

// vocabSizes is the number of ordinary (non-special) tokens of each built-in
// encoding: ids 0..size-1 are all ordinary tokens.
var vocabSizes = map[string]int{
	CL100kBase: 100256,
	O200kBase:  199998,
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

var (
	loaderOnce sync.Once
	entries    = map[string]*entry{CL100kBase: {}, O200kBase: {}} // keys fixed at init; values load once
)

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
		loaderOnce.Do(func() {
			tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader())
		})
		enc, err := tiktoken.GetEncoding(name)
		if err != nil {
			e.err = fmt.Errorf("tokenizer %q: load: %w", name, err)
			return
		}
		e.tok = newBPE(name, enc, vocabSizes[name])
	})
	if e.err != nil {
		return nil, e.err
	}
	return e.tok, nil
}
