package openai

import (
	"github.com/streamgauge/streamgauge/targets"
)

// The fast path: a single pass over a chunk that picks out the few fields a
// decoder needs (choice text, delta content, refusal and reasoning, usage)
// and skips everything else without building a tree. It handles the shape
// nearly every frame of every server has: a top-level object whose strings
// have no escape sequences and whose deltas carry no tool calls. Anything
// else (an escape, a tool call, an error, a failed finish_reason, a
// duplicate key, an unexpected type, more than maxFastChoices choices,
// invalid JSON) makes it give up, and the frame is parsed again by the full
// decoder (fastjson), so what a frame means never depends on which path read
// it. FuzzFastPath holds the two paths to the same answer on arbitrary
// input.

// maxFastChoices bounds the choices the fast path keeps (n > 1 requests).
const maxFastChoices = 4

// maxFastDepth bounds the nesting the fast path skips through.
const maxFastDepth = 32

// fastChoice is what one choice contributes.
type fastChoice struct {
	choiceText
	seen uint8 // keys seen, for duplicates
}

// Bits of fastChoice.seen (and of the other members' seen sets).
const (
	seenText = 1 << iota
	seenDelta
	seenContent
	seenRefusal
	seenReasoningContent
	seenReasoning
	seenToolCalls
	seenFinish
)

// Bits of the top level's and usage's seen sets.
const (
	seenChoices = 1 << iota
	seenUsage
	seenObject
	seenError
	seenID
	seenTimings
	seenGroq
)

const (
	seenPrompt = 1 << iota
	seenCompletion
	seenDetails
	seenPromptDetails
	seenCacheHit
)

// fastUsage is a chunk's usage object.
type fastUsage struct {
	prompt, completion, reasoning int
	cached, cacheHit              int
	present, hasCached, hasHit    bool
}

// scanner walks one chunk. A failed step sets bad and every later step
// fails too, so callers check once at the end.
type scanner struct {
	b       []byte
	i       int
	bad     bool
	choices [maxFastChoices]fastChoice
	n       int
	usage   fastUsage
	id      []byte // the chunk's "id" when it is a string
}

// fastDecode decodes data into ev and reports true, or reports false
// (leaving ev alone) when the chunk is not one the fast path handles.
func (d *decoder) fastDecode(data []byte, ev *targets.Event) bool {
	s := scanner{b: data}
	if !s.top() {
		return false
	}
	for k := 0; k < s.n; k++ {
		s.choices[k].addTo(ev)
	}
	if !d.haveID && len(s.id) > 0 && (s.n > 0 || s.usage.present) {
		ev.ID = string(s.id)
		d.haveID = true
	}
	if s.usage.present {
		u := &s.usage
		d.usage = targets.Usage{PromptTokens: u.prompt, CompletionTokens: u.completion, ReasoningTokens: u.reasoning}
		switch {
		case u.hasCached && u.cached >= 0:
			d.usage.CachedTokens, d.usage.Cached = u.cached, true
		case u.hasHit && u.cacheHit >= 0:
			d.usage.CachedTokens, d.usage.Cached = u.cacheHit, true
		}
		d.useUsage(ev)
	}
	return true
}

func (s *scanner) ws() {
	b, i := s.b, s.i
	for i < len(b) && b[i] <= ' ' {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		}
		break
	}
	s.i = i
}

// plain marks the bytes a string may hold without ending or escaping: not
// '"', not '\\', not a control character.
var plain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// peek returns the next non-space byte, 0 at the end.
func (s *scanner) peek() byte {
	if i := s.i; i < len(s.b) && s.b[i] > ' ' {
		return s.b[i]
	}
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// expect consumes c (after spaces) or fails.
func (s *scanner) expect(c byte) bool {
	if !s.bad && s.peek() == c {
		s.i++
		return true
	}
	s.bad = true
	return false
}

// str reads a string without escape sequences and returns its bytes.
func (s *scanner) str() []byte {
	if !s.expect('"') {
		return nil
	}
	b, i := s.b, s.i
	start := i
	for i < len(b) && plain[b[i]] {
		i++
	}
	if i == len(b) || b[i] != '"' {
		s.bad = true
		return nil
	}
	s.i = i + 1
	return b[start:i]
}

// optStr reads a string or null (nil).
func (s *scanner) optStr() []byte {
	if s.isNull() {
		return nil
	}
	return s.str()
}

func (s *scanner) literal(lit string) {
	if s.bad || len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		s.bad = true
		return
	}
	s.i += len(lit)
}

// isNull consumes a null if one is next.
func (s *scanner) isNull() bool {
	if s.peek() != 'n' {
		return false
	}
	s.literal("null")
	return true
}

// integer reads a whole number (at most 18 digits) or null (0).
func (s *scanner) integer() int {
	if s.isNull() || s.bad {
		return 0
	}
	neg := false
	if s.i < len(s.b) && s.b[s.i] == '-' {
		neg = true
		s.i++
	}
	start, n := s.i, 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		n = n*10 + int(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 18 || (digits > 1 && s.b[start] == '0') {
		s.bad = true
		return 0
	}
	// A fraction or exponent is not a whole number: leave it to the full
	// decoder (which reports it).
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			s.bad = true
			return 0
		}
	}
	if neg {
		return -n
	}
	return n
}

// skip consumes any JSON value, strictly (stricter than the full decoder:
// where they differ, the fast path gives up).
func (s *scanner) skip(depth int) {
	if depth > maxFastDepth {
		s.bad = true
	}
	if s.bad {
		return
	}
	switch s.peek() {
	case '"':
		s.skipStr()
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return
		}
		for !s.bad {
			s.skipStr()
			s.expect(':')
			s.skip(depth + 1)
			if s.peek() == ',' {
				s.i++
				continue
			}
			s.expect('}')
			return
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return
		}
		for !s.bad {
			s.skip(depth + 1)
			if s.peek() == ',' {
				s.i++
				continue
			}
			s.expect(']')
			return
		}
	case 't':
		s.literal("true")
	case 'f':
		s.literal("false")
	case 'n':
		s.literal("null")
	default:
		s.skipNumber()
	}
}

// skipStr consumes a string, escapes included (each checked).
func (s *scanner) skipStr() {
	if !s.expect('"') {
		return
	}
	for s.i < len(s.b) {
		for s.i < len(s.b) && plain[s.b[s.i]] {
			s.i++
		}
		if s.i == len(s.b) {
			break
		}
		c := s.b[s.i]
		s.i++
		switch {
		case c == '"':
			return
		case c < 0x20:
			s.bad = true
			return
		case c == '\\':
			if s.i >= len(s.b) {
				s.bad = true
				return
			}
			e := s.b[s.i]
			s.i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s.b)-s.i < 4 || !isHex4(s.b[s.i:s.i+4]) {
					s.bad = true
					return
				}
				s.i += 4
			default:
				s.bad = true
				return
			}
		}
	}
	s.bad = true
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// skipNumber consumes a number as JSON's grammar spells it.
func (s *scanner) skipNumber() {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	start := s.i
	n := digits()
	if n == 0 || (n > 1 && s.b[start] == '0') {
		s.bad = true
		return
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			s.bad = true
			return
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			s.bad = true
		}
	}
}

// object walks an object's members, calling member for each key (which
// must consume the value). Keys with escapes make it give up.
func (s *scanner) object(member func(key []byte)) {
	if !s.expect('{') {
		return
	}
	if s.peek() == '}' {
		s.i++
		return
	}
	for !s.bad {
		key := s.str()
		s.expect(':')
		if s.bad {
			return
		}
		member(key)
		if s.peek() == ',' {
			s.i++
			continue
		}
		s.expect('}')
		return
	}
}

// first records bit in *seen and reports true, or fails the scan when the
// key was seen before (the full decoder takes a duplicate key's first
// value; the fast path leaves such frames to it).
func (s *scanner) first(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		s.bad = true
		return false
	}
	*seen |= bit
	return true
}

// top walks the chunk; false means the fast path gives up.
func (s *scanner) top() bool {
	var seen uint8
	s.object(func(key []byte) {
		switch string(key) {
		case "choices":
			if s.first(&seen, seenChoices) {
				s.choiceArray()
			}
		case "usage":
			if s.first(&seen, seenUsage) {
				s.usageObject()
			}
		case "object":
			// "object": "error" is an error frame: the full decoder's.
			if s.first(&seen, seenObject) {
				if v := s.optStr(); string(v) == "error" {
					s.bad = true
				}
			}
		case "error":
			if s.first(&seen, seenError) && !s.isNull() {
				s.bad = true
			}
		case "id":
			// The stream's id; one that is not a plain string (escapes,
			// another type) is the full decoder's.
			if s.first(&seen, seenID) {
				if s.peek() == '"' {
					s.id = s.str()
				} else {
					s.bad = true
				}
			}
		case "timings", "x_groq":
			// llama-server's timings and Groq's x_groq (its id, its
			// usage and timings), a frame or two a stream, with
			// fractions: the full decoder's.
			bit := uint8(seenTimings)
			if string(key) == "x_groq" {
				bit = seenGroq
			}
			if s.first(&seen, bit) && !s.isNull() {
				s.bad = true
			}
		default:
			s.skip(1)
		}
	})
	s.ws()
	return !s.bad && s.i == len(s.b)
}

func (s *scanner) choiceArray() {
	if s.isNull() {
		return
	}
	if !s.expect('[') {
		return
	}
	if s.peek() == ']' {
		s.i++
		return
	}
	for !s.bad {
		if s.n == maxFastChoices {
			s.bad = true
			return
		}
		s.choice(&s.choices[s.n])
		s.n++
		if s.peek() == ',' {
			s.i++
			continue
		}
		s.expect(']')
		return
	}
}

func (s *scanner) choice(c *fastChoice) {
	s.object(func(key []byte) {
		switch string(key) {
		case "text":
			if s.first(&c.seen, seenText) {
				c.text = s.optStr()
			}
		case "delta":
			if s.first(&c.seen, seenDelta) && !s.isNull() {
				s.delta(c)
			}
		case "finish_reason":
			// A failed generation's reason is the full decoder's; a
			// reason that is not a string or null makes the scan give up.
			if s.first(&c.seen, seenFinish) && isFailedFinish(s.optStr()) {
				s.bad = true
			}
		default:
			s.skip(2)
		}
	})
}

func (s *scanner) delta(c *fastChoice) {
	s.object(func(key []byte) {
		switch string(key) {
		case "content":
			if s.first(&c.seen, seenContent) {
				c.content = s.optStr()
			}
		case "refusal":
			if s.first(&c.seen, seenRefusal) {
				c.refusal = s.optStr()
			}
		case "reasoning_content":
			if s.first(&c.seen, seenReasoningContent) {
				c.reasoningContent = s.optStr()
			}
		case "reasoning":
			if s.first(&c.seen, seenReasoning) {
				c.reasoning = s.optStr()
			}
		case "tool_calls":
			// Tool calls (rare, nested) are the full decoder's.
			if s.first(&c.seen, seenToolCalls) && !s.isNull() {
				s.bad = true
			}
		default:
			s.skip(3)
		}
	})
}

func (s *scanner) usageObject() {
	if s.isNull() {
		return
	}
	u := &s.usage
	u.present = true
	var seen uint8
	s.object(func(key []byte) {
		switch string(key) {
		case "prompt_tokens":
			if s.first(&seen, seenPrompt) {
				u.prompt = s.integer()
			}
		case "completion_tokens":
			if s.first(&seen, seenCompletion) {
				u.completion = s.integer()
			}
		case "completion_tokens_details":
			if !s.first(&seen, seenDetails) || s.isNull() {
				return
			}
			var seenR uint8
			s.object(func(key []byte) {
				if string(key) != "reasoning_tokens" {
					s.skip(3)
				} else if s.first(&seenR, 1) {
					u.reasoning = s.integer()
				}
			})
		case "prompt_cache_hit_tokens":
			// DeepSeek's cached prompt tokens; null is no report (the
			// full decoder's).
			if s.first(&seen, seenCacheHit) {
				if s.peek() == 'n' {
					s.bad = true
					return
				}
				u.cacheHit, u.hasHit = s.integer(), true
			}
		case "total_prompt_time_sec", "total_completion_time_sec":
			// mistral.rs's timings, fractions: the full decoder's.
			s.bad = true
		case "prompt_tokens_details":
			if !s.first(&seen, seenPromptDetails) || s.isNull() {
				return
			}
			var seenC uint8
			s.object(func(key []byte) {
				if string(key) != "cached_tokens" {
					s.skip(3)
				} else if s.first(&seenC, 1) {
					// A null count is no report: the full decoder's.
					if s.peek() == 'n' {
						s.bad = true
						return
					}
					u.cached, u.hasCached = s.integer(), true
				}
			})
		default:
			s.skip(2)
		}
	})
}
