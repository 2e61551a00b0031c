package prompt

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"sync"
)

// CountFunc counts a candidate text on another tokenizer (a server's
// tokenize endpoint): the text in its context (the messages before it, the
// chat template), so the count is what the server will see.
type CountFunc func(ctx context.Context, text string) (int, error)

// maxFitCalls bounds the counts one Fit asks for.
const maxFitCalls = 24

// fillers are short, common words that nearly every tokenizer counts as one
// token, appended to close the last gap when a vocabulary word is too long.
var fillers = []string{" the", " of", " and", " to", " in", " is", " it", " on"}

// Fitter adjusts prompts made by a Builder so that another tokenizer counts
// exactly the intended number of tokens: it keeps the start of the text and
// trims or extends its tail, word by word, searching on word boundaries
// with the counts the CountFunc gives (a few calls per prompt). Results are
// cached by context key, text and length, so a prompt sent many times is
// fitted once; the cache holds a hash of each and how its text was
// changed (a cut and the words added), not the texts, so a workload of
// 100,000 long prompts costs megabytes, not gigabytes. A Fitter is safe
// for concurrent use.
type Fitter struct {
	b    *Builder
	seed maphash.Seed

	mu    sync.Mutex
	cache map[fitKey]fitResult
}

// fitKey identifies a fit: a hash of its context key and text (with the
// text's length against collisions) and the length wanted.
type fitKey struct {
	hash    uint64
	textLen int
	n       int
}

// fitResult rebuilds a fitted text from the original: (text + ext)[:cut] +
// tail.
type fitResult struct {
	ext, tail string
	cut       int
	count     int
}

func (r fitResult) apply(text string) string {
	base := text
	if r.ext != "" {
		base = text + r.ext
	}
	return base[:r.cut] + r.tail
}

// recipe is how out was made from text, given the working text full
// (text and any words added): the longest common prefix of out and full,
// the words added to text within it, and the rest of out.
func recipe(text, full, out string, count int) fitResult {
	cut := 0
	for cut < len(out) && cut < len(full) && out[cut] == full[cut] {
		cut++
	}
	r := fitResult{cut: cut, tail: strings.Clone(out[cut:]), count: count}
	if cut > len(text) {
		r.ext = strings.Clone(full[len(text):cut])
	}
	return r
}

// NewFitter returns a Fitter that extends prompts with b's words.
func NewFitter(b *Builder) (*Fitter, error) {
	if b == nil {
		return nil, errors.New("prompt: fitter needs a builder")
	}
	return &Fitter{b: b, seed: maphash.MakeSeed(), cache: make(map[fitKey]fitResult)}, nil
}

func (f *Fitter) key(key, text string, n int) fitKey {
	var h maphash.Hash
	h.SetSeed(f.seed)
	h.WriteString(key)
	h.WriteByte(0)
	h.WriteString(text)
	return fitKey{hash: h.Sum64(), textLen: len(text), n: n}
}

// Cached returns how many distinct prompts have been fitted.
func (f *Fitter) Cached() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cache)
}

// Fit returns text trimmed or extended at its tail so that count gives n,
// and the count of what it returns. key names the text's context (the
// messages before it): the same text in another context is fitted again.
// The first word of text is always kept. When no tail reaches n exactly
// (count gives jumps of several tokens everywhere near n), Fit returns the
// closest text it found with its count; the caller decides whether that is
// good enough. Fit fails only when count fails.
func (f *Fitter) Fit(ctx context.Context, key, text string, n int, count CountFunc) (string, int, error) {
	k := f.key(key, text, n)
	f.mu.Lock()
	r, ok := f.cache[k]
	f.mu.Unlock()
	if ok {
		return r.apply(text), r.count, nil
	}
	s := &fitState{ctx: ctx, count: count, memo: make(map[int]int), target: n}
	out, c, err := f.fit(s, text, n)
	if err != nil {
		return "", 0, err
	}
	full := s.text
	if full == "" {
		full = text
	}
	r = recipe(text, full, out, c)
	f.mu.Lock()
	f.cache[k] = r
	f.mu.Unlock()
	return out, c, nil
}

// fitState is one Fit's counts: of the prefixes of its working text, by
// word count.
type fitState struct {
	ctx   context.Context
	count CountFunc
	calls int
	text  string
	cuts  []int // cuts[k] is the byte length of the first k+1 words
	memo  map[int]int
	// target is the count wanted.
	target int
}

func (s *fitState) set(text string) {
	s.text = text
	s.cuts = s.cuts[:0]
	clear(s.memo)
	for i := 1; i < len(text); i++ {
		if text[i] == ' ' && text[i-1] != ' ' {
			s.cuts = append(s.cuts, i)
		}
	}
	s.cuts = append(s.cuts, len(text))
}

// words is the number of words of the working text.
func (s *fitState) words() int { return len(s.cuts) }

// prefix is the first k words.
func (s *fitState) prefix(k int) string { return s.text[:s.cuts[k-1]] }

func (s *fitState) countText(text string) (int, error) {
	s.calls++
	if s.calls > maxFitCalls {
		return 0, errTooManyCalls
	}
	return s.count(s.ctx, text)
}

var errTooManyCalls = errors.New("too many counts")

// at counts the first k words.
func (s *fitState) at(k int) (int, error) {
	if c, ok := s.memo[k]; ok {
		return c, nil
	}
	c, err := s.countText(s.prefix(k))
	if err != nil {
		return 0, err
	}
	s.memo[k] = c
	return c, nil
}

func (f *Fitter) fit(s *fitState, text string, n int) (string, int, error) {
	if n <= 0 || text == "" {
		c, err := s.countText(text)
		return text, c, err
	}
	s.set(text)
	hi := s.words()
	chi, err := s.at(hi)
	if err != nil {
		return "", 0, err
	}
	if chi == n {
		return text, chi, nil
	}
	// Extend the tail until the text counts at least n, drawing words from
	// a source seeded by the text, so the same prompt is extended alike.
	h := fnv.New64a()
	h.Write([]byte(text))
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(n)))
	for chi < n {
		add := (n - chi) * hi / max(chi, 1)
		add = add + add/8 + 2
		s.set(s.text + f.b.Continue(r, add))
		hi = s.words()
		if chi, err = s.at(hi); err != nil {
			return f.best(s, err)
		}
	}
	// Now count(prefix(hi)) >= n; find the longest prefix that counts < n.
	lo, clo := 1, 0
	if c, err := s.at(1); err != nil {
		return f.best(s, err)
	} else if c >= n {
		return s.prefix(1), c, nil // the first word alone is too long
	} else {
		clo = c
	}
	for hi-lo > 1 {
		// Interpolate, then keep the guess strictly inside (lo, hi).
		k := lo + int(float64(n-clo)*float64(hi-lo)/float64(chi-clo))
		k = min(max(k, lo+1), hi-1)
		c, err := s.at(k)
		if err != nil {
			return f.best(s, err)
		}
		switch {
		case c == n:
			return s.prefix(k), c, nil
		case c < n:
			lo, clo = k, c
		default:
			hi, chi = k, c
		}
	}
	if chi == n {
		return s.prefix(hi), chi, nil
	}
	// The word after lo adds too many tokens: close the gap with fillers.
	base := s.prefix(lo)
	bestText, bestCount := base, clo
	for d := n - clo; d > 0; {
		var sb strings.Builder
		sb.WriteString(base)
		for i := range d {
			sb.WriteString(fillers[i%len(fillers)])
		}
		c, err := s.countText(sb.String())
		if err != nil {
			break
		}
		if c == n {
			return sb.String(), c, nil
		}
		if c < n && c > bestCount {
			bestText, bestCount = sb.String(), c
		}
		if c > n {
			d -= c - n
		} else {
			d += n - c
		}
		if s.calls >= maxFitCalls {
			break
		}
	}
	return bestText, bestCount, nil
}

// best is what a fit that ran out of counts returns: the longest prefix
// counted below the target, or the error when count itself failed.
func (f *Fitter) best(s *fitState, err error) (string, int, error) {
	if !errors.Is(err, errTooManyCalls) {
		return "", 0, err
	}
	// The longest prefix counted at most n, else the shortest counted.
	bestK, bestC := 0, 0
	for k, c := range s.memo {
		better := bestK == 0 ||
			(c <= s.target && (bestC > s.target || c > bestC)) ||
			(c > s.target && bestC > s.target && c < bestC)
		if better {
			bestK, bestC = k, c
		}
	}
	if bestK == 0 {
		return "", 0, fmt.Errorf("prompt: fit: %w", err)
	}
	return s.prefix(bestK), bestC, nil
}
