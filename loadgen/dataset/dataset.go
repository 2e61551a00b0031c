// Package dataset reads the user's own prompts: JSON lines with a "prompt"
// or OpenAI "messages", a ShareGPT JSON array whose conversations become
// multi-turn sessions, or plain text with one prompt per line.
//
// A file is read in one streaming pass and never held whole: Read keeps a
// seeded reservoir sample (algorithm R) of at most Options.Sample entries,
// so its memory is bounded by the sample, not the file, and a 1 GB dataset
// costs the size of the entries kept. The same file, seed and sample size
// give the same entries in the same order.
package dataset

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
)

// Formats Read understands.
const (
	FormatAuto     = "auto"
	FormatJSONL    = "jsonl"
	FormatShareGPT = "sharegpt"
	FormatText     = "text"
)

// Formats lists the values of Options.Format.
func Formats() []string { return []string{FormatAuto, FormatJSONL, FormatShareGPT, FormatText} }

// Limits on what Read accepts.
const (
	// MaxLine is the longest line of a JSONL or text dataset, and the
	// longest ShareGPT entry, in bytes.
	MaxLine = 16 << 20
	// DefaultSample is the sample size when Options.Sample is 0.
	DefaultSample = 10000
	// maxReported is how many malformed entries an error names.
	maxReported = 10
)

// sampleStream seeds the reservoir's random source, apart from every other
// stream drawn from the run's seed.
const sampleStream = 0x5be0cd19137e2179

// Message is one message of a conversation.
type Message struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// Turn is one user turn of an entry and the reply the dataset gives to it
// ("" when it has none).
type Turn struct {
	User  string
	Reply string
}

// Entry is one prompt or conversation of a dataset.
type Entry struct {
	// ID is the entry's "id", else "line N" (JSONL, text) or "entry N"
	// (ShareGPT, counted from 1).
	ID string
	// History is sent before the first turn, as it is: system messages,
	// and for a JSONL "messages" entry every message before its last user
	// message.
	History []Message
	// Turns are the user turns, in order; an entry of several turns is a
	// multi-turn session.
	Turns []Turn
	// OutputTokens is the entry's "output_tokens", 0 when it has none.
	OutputTokens int
}

// Counter counts tokens in text (a tokenizer).
type Counter interface {
	Count(text string) int
}

// Options configures Read.
type Options struct {
	// Format is auto, jsonl, sharegpt or text; "" means auto: a file whose
	// first non-blank byte is '[' is ShareGPT, '{' JSON lines, anything
	// else (or a .txt file) text.
	Format string
	// Sample is how many entries to keep (0: DefaultSample).
	Sample int
	// Seed draws the sample and its order.
	Seed uint64
	// MinInput and MaxInput (0: no bound) keep only entries whose first
	// request (history and first user turn) has that many tokens under
	// Counter. Counter is needed when either is set.
	MinInput, MaxInput int
	Counter            Counter
}

// Set is the sample of a dataset Read kept.
type Set struct {
	// Entries are the entries kept, in an order drawn from the seed.
	Entries []Entry
	// Format is the format read (auto resolved).
	Format string
	// Eligible counts the entries that passed the length filters; Read
	// kept min(Eligible, Sample) of them.
	Eligible int64
	// Filtered counts entries left out by the length filters, Empty those
	// with no user turn (a ShareGPT conversation without a human message).
	Filtered, Empty int64
}

// Multi reports whether any entry has more than one turn, so the set is
// run as sessions.
func (s *Set) Multi() bool {
	for _, e := range s.Entries {
		if len(e.Turns) > 1 {
			return true
		}
	}
	return false
}

// Read reads a dataset from r; name (the file's path) prefixes every error
// and decides auto-detection of a .txt file. Malformed entries are reported
// all at once, one line each (the first 10 and a count of the rest), naming
// the line: "data.jsonl:17: ...".
func Read(r io.Reader, name string, o Options) (*Set, error) {
	if o.Sample < 0 {
		return nil, fmt.Errorf("dataset %s: sample %d must not be negative", name, o.Sample)
	}
	if o.Sample == 0 {
		o.Sample = DefaultSample
	}
	if o.MinInput < 0 || o.MaxInput < 0 || (o.MaxInput > 0 && o.MinInput > o.MaxInput) {
		return nil, fmt.Errorf("dataset %s: input length bounds %d to %d: want 0 <= min <= max", name, o.MinInput, o.MaxInput)
	}
	if (o.MinInput > 0 || o.MaxInput > 0) && o.Counter == nil {
		return nil, fmt.Errorf("dataset %s: length filters need a tokenizer", name)
	}
	lr, err := openReader(r)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	format := o.Format
	if format == "" || format == FormatAuto {
		first, err := lr.firstByte()
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", name, err)
		}
		switch {
		case strings.EqualFold(filepath.Ext(strings.TrimSuffix(name, ".gz")), ".txt"):
			format = FormatText
		case first == '[':
			format = FormatShareGPT
		case first == '{':
			format = FormatJSONL
		default:
			format = FormatText
		}
	}
	s := &sampler{o: o, set: &Set{Format: format}, rng: rand.New(rand.NewPCG(o.Seed, sampleStream)), name: name}
	switch format {
	case FormatJSONL:
		err = readJSONL(lr, s)
	case FormatShareGPT:
		err = readShareGPT(lr, s)
	case FormatText:
		err = readText(lr, s)
	default:
		return nil, fmt.Errorf("dataset %s: format %q: want one of %s", name, o.Format, strings.Join(Formats(), ", "))
	}
	if err != nil {
		return nil, err
	}
	if err := s.err(); err != nil {
		return nil, err
	}
	if len(s.set.Entries) == 0 {
		what := "no entries"
		if s.set.Filtered > 0 {
			what = fmt.Sprintf("no entries within the input length bounds (%d left out)", s.set.Filtered)
		}
		return nil, fmt.Errorf("dataset %s (%s): %s", name, format, what)
	}
	s.rng.Shuffle(len(s.set.Entries), func(i, j int) {
		s.set.Entries[i], s.set.Entries[j] = s.set.Entries[j], s.set.Entries[i]
	})
	return s.set, nil
}

// sampler filters entries and keeps a reservoir sample of them; it also
// collects the malformed ones.
type sampler struct {
	o       Options
	set     *Set
	rng     *rand.Rand
	name    string
	bad     []string
	badMore int
}

// malformed notes a malformed entry at line.
func (s *sampler) malformed(line int64, format string, a ...any) {
	if len(s.bad) < maxReported {
		s.bad = append(s.bad, fmt.Sprintf("dataset %s:%d: %s", s.name, line, fmt.Sprintf(format, a...)))
		return
	}
	s.badMore++
}

func (s *sampler) err() error {
	if len(s.bad) == 0 {
		return nil
	}
	errs := make([]error, 0, len(s.bad)+1)
	for _, b := range s.bad {
		errs = append(errs, errors.New(b))
	}
	if s.badMore > 0 {
		errs = append(errs, fmt.Errorf("dataset %s: and %d more malformed entries", s.name, s.badMore))
	}
	return errors.Join(errs...)
}

// add offers one well-formed entry to the sample. Once an entry is
// malformed, nothing more is kept: the read only goes on to report the
// other malformed entries.
func (s *sampler) add(e Entry) {
	if len(e.Turns) == 0 {
		s.set.Empty++
		return
	}
	if len(s.bad) > 0 {
		return
	}
	if s.o.MinInput > 0 || s.o.MaxInput > 0 {
		n := 0
		for _, m := range e.History {
			n += s.o.Counter.Count(m.Content)
		}
		n += s.o.Counter.Count(e.Turns[0].User)
		if n < s.o.MinInput || (s.o.MaxInput > 0 && n > s.o.MaxInput) {
			s.set.Filtered++
			return
		}
	}
	i := s.set.Eligible
	s.set.Eligible++
	if i < int64(s.o.Sample) {
		s.set.Entries = append(s.set.Entries, e)
		return
	}
	if j := s.rng.Int64N(i + 1); j < int64(s.o.Sample) {
		s.set.Entries[j] = e
	}
}
