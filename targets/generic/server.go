package generic

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/streamgauge/streamgauge/targets"
)

// Server is the simulator's side of a Spec: it reads requests the Spec's
// template wrote and streams frames its decoder reads.
type Server struct {
	p           *Protocol
	route       string
	contentType string
	// Where the template puts the request's fields, found by rendering it
	// with marker values; keys nil when the template leaves a field out.
	promptAt, modelAt, maxTokensAt path
	// The token frame is tokenHead + JSON(text) + tokenTail.
	tokenHead, tokenTail []byte
	parsers              fastjson.ParserPool
}

var _ targets.ServerProtocol = (*Server)(nil)

// Marker values for finding the request's fields in a rendered body.
const (
	probePrompt    = "sgprobe-prompt-7f3a"
	probeModel     = "sgprobe-model-7f3a"
	probeMaxTokens = 7919
)

// maxServerIndex bounds the array indexes in paths the server writes.
const maxServerIndex = 64

// NewServer checks spec as New does, and what serving it needs besides: the
// paths it writes must not overlap (one a prefix of another), a done line
// must not be JSON (it could not be told from a data frame), and {model}
// must be a whole path segment (a route pattern).
func NewServer(spec Spec) (*Server, error) {
	p, err := New(spec)
	if err != nil {
		return nil, err
	}
	s := &Server{p: p, contentType: "text/event-stream"}
	if p.framing == targets.NDJSON {
		s.contentType = "application/x-ndjson"
	}
	var errs []error
	fail := func(name string, err error) {
		errs = append(errs, fmt.Errorf("generic.%s: %w", name, err))
	}
	s.route, _, _ = strings.Cut(p.path, "?")
	for _, seg := range strings.Split(s.route, "/") {
		if strings.Contains(seg, "{model}") && seg != "{model}" {
			fail("path", fmt.Errorf("%q: the simulator serves {model} only as a whole path segment", spec.Path))
			break
		}
	}
	if p.done.kind == doneLine && fastjson.ValidateBytes(p.done.line) == nil {
		fail("done", fmt.Errorf("%q: the simulator cannot serve a data line that is JSON; use PATH==VALUE", spec.Done))
	}
	type field struct {
		name string
		at   path
	}
	written := []field{
		{"text", p.text}, {"reasoning", p.reasoning}, {"usage.prompt", p.usage[0]},
		{"usage.completion", p.usage[1]}, {"usage.reasoning", p.usage[2]}, {"error", p.errPath},
	}
	if p.done.kind == doneCond {
		written = append(written, field{"done", p.done.path})
	}
	for i, a := range written {
		if a.at.keys == nil {
			continue
		}
		for _, k := range a.at.keys {
			if isIndex(k) && mustAtoi(k) > maxServerIndex {
				fail(a.name, fmt.Errorf("%q: the simulator writes array indexes up to %d", a.at.raw, maxServerIndex))
				break
			}
		}
		for _, b := range written[:i] {
			if b.at.keys != nil && overlaps(a.at.keys, b.at.keys) {
				fail(a.name, fmt.Errorf("%q overlaps generic.%s %q: the simulator cannot write both", a.at.raw, b.name, b.at.raw))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var tree node
	if err := tree.set(p.text.keys, nil); err != nil {
		return nil, fmt.Errorf("generic.text: %w", err)
	}
	hole := -1
	b := tree.render(nil, &hole)
	s.tokenHead, s.tokenTail = b[:hole:hole], b[hole:]
	if _, err := s.finalFrame(targets.Usage{}); err != nil {
		return nil, err
	}
	if err := s.probe(); err != nil {
		return nil, fmt.Errorf("generic.request: %w", err)
	}
	return s, nil
}

// overlaps reports whether one path is a prefix of the other (or equal).
func overlaps(a, b []string) bool {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] && !(isIndex(a[i]) && isIndex(b[i]) && mustAtoi(a[i]) == mustAtoi(b[i])) {
			return false
		}
	}
	return true
}

func mustAtoi(k string) int {
	n, _ := strconv.Atoi(k)
	return n
}

// probe renders the template with marker values and records where they land.
func (s *Server) probe() error {
	body, err := s.p.Body(&targets.Request{Model: probeModel, Prompt: probePrompt, MaxTokens: probeMaxTokens})
	if err != nil {
		return err
	}
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		return err
	}
	walk(v, nil, func(at []string, x *fastjson.Value) {
		keep := func(dst *path) {
			if dst.keys == nil {
				dst.keys = append([]string(nil), at...)
				dst.raw = strings.Join(at, ".")
			}
		}
		switch x.Type() {
		case fastjson.TypeString:
			str := string(x.GetStringBytes())
			switch {
			case str == probeModel:
				keep(&s.modelAt)
			case strings.Contains(str, probePrompt):
				keep(&s.promptAt)
			case str == strconv.Itoa(probeMaxTokens):
				keep(&s.maxTokensAt)
			}
		case fastjson.TypeNumber:
			if x.GetFloat64() == probeMaxTokens {
				keep(&s.maxTokensAt)
			}
		}
	})
	return nil
}

// walk calls fn for every scalar in v, in document order, with its path.
func walk(v *fastjson.Value, at []string, fn func([]string, *fastjson.Value)) {
	switch v.Type() {
	case fastjson.TypeObject:
		v.GetObject().Visit(func(k []byte, x *fastjson.Value) {
			walk(x, append(at, string(k)), fn)
		})
	case fastjson.TypeArray:
		for i, x := range v.GetArray() {
			walk(x, append(at, strconv.Itoa(i)), fn)
		}
	default:
		fn(at, v)
	}
}

// Name implements targets.ServerProtocol.
func (*Server) Name() string { return "generic" }

// Routes implements targets.ServerProtocol: the spec's path without its
// query; {model} is a route wildcard.
func (s *Server) Routes() []string { return []string{s.route} }

// ContentType implements targets.ServerProtocol.
func (s *Server) ContentType() string { return s.contentType }

// ParseRequest implements targets.ServerProtocol. The prompt is every string
// at the place the template puts it (all messages' contents when it is
// inside an array), joined by newlines. A generic API always streams.
func (s *Server) ParseRequest(body []byte) (*targets.ServerRequest, error) {
	if isBlank(body) {
		return nil, errNoBody
	}
	ps := s.parsers.Get()
	defer s.parsers.Put(ps)
	v, err := ps.ParseBytes(body)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	r := &targets.ServerRequest{Stream: true}
	if s.modelAt.keys != nil {
		r.Model = string(v.GetStringBytes(s.modelAt.keys...))
	}
	if s.promptAt.keys != nil {
		var parts []string
		collect(v, s.promptAt.keys, &parts)
		r.Prompt = strings.Join(parts, "\n")
	}
	if s.maxTokensAt.keys != nil {
		if x := v.Get(s.maxTokensAt.keys...); x != nil && x.Type() != fastjson.TypeNull {
			n, err := x.Int()
			if x.Type() == fastjson.TypeString {
				n, err = strconv.Atoi(string(x.GetStringBytes()))
			}
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s: want a whole number >= 0, got %s", s.maxTokensAt.raw, clip(x.String(), 40))
			}
			r.MaxTokens = n
		}
	}
	return r, nil
}

// collect appends the strings at keys, taking every element of an array
// where keys hold an index.
func collect(v *fastjson.Value, keys []string, out *[]string) {
	for i, k := range keys {
		if v.Type() == fastjson.TypeArray && isIndex(k) {
			for _, x := range v.GetArray() {
				collect(x, keys[i+1:], out)
			}
			return
		}
		if v = v.Get(k); v == nil {
			return
		}
	}
	if v.Type() == fastjson.TypeString {
		*out = append(*out, string(v.GetStringBytes()))
	}
}

// NewStreamWriter implements targets.ServerProtocol.
func (s *Server) NewStreamWriter(w io.Writer, _ *targets.ServerRequest, _ string) targets.StreamWriter {
	return &writer{s: s, w: w}
}

// writer writes one response: token frames, a final frame with usage and the
// done value, the done line.
type writer struct {
	s   *Server
	w   io.Writer
	buf []byte
}

// begin starts a frame in w.buf.
func (w *writer) begin() {
	w.buf = w.buf[:0]
	if w.s.p.framing == targets.SSE {
		w.buf = append(w.buf, "data: "...)
	}
}

// end ends the frame in w.buf and writes it.
func (w *writer) end() error {
	if w.s.p.framing == targets.SSE {
		w.buf = append(w.buf, '\n')
	}
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	return err
}

// frame writes one frame holding doc.
func (w *writer) frame(doc []byte) error {
	w.begin()
	w.buf = append(w.buf, doc...)
	return w.end()
}

// Start implements targets.StreamWriter; a generic stream has no preamble.
func (w *writer) Start() error { return nil }

// Token implements targets.StreamWriter.
func (w *writer) Token(text string) error {
	q, err := json.Marshal(text)
	if err != nil {
		return err
	}
	w.begin()
	w.buf = append(append(append(w.buf, w.s.tokenHead...), q...), w.s.tokenTail...)
	return w.end()
}

// Finish implements targets.StreamWriter: a frame with the usage counts and
// the done value (when the spec has either), then the done line.
func (w *writer) Finish(u targets.Usage) error {
	doc, err := w.s.finalFrame(u)
	if err != nil {
		return err
	}
	if doc != nil {
		if err := w.frame(doc); err != nil {
			return err
		}
	}
	if w.s.p.done.kind == doneLine {
		return w.frame(w.s.p.done.line)
	}
	return nil
}

// finalFrame is the frame with the usage counts and the done value, nil
// when the spec has neither. Its error names the field that cannot be
// written beside the others.
func (s *Server) finalFrame(u targets.Usage) ([]byte, error) {
	p := s.p
	var tree node
	empty := true
	for i, n := range [3]int{u.PromptTokens, u.CompletionTokens, u.ReasoningTokens} {
		if p.usage[i].keys == nil {
			continue
		}
		if err := tree.set(p.usage[i].keys, strconv.AppendInt(nil, int64(n), 10)); err != nil {
			return nil, fmt.Errorf("generic.%s: %q: %w", usageFields[i], p.usage[i].raw, err)
		}
		empty = false
	}
	if p.done.kind == doneCond {
		if err := tree.set(p.done.path.keys, []byte(doneValue(p.done))); err != nil {
			return nil, fmt.Errorf("generic.done: %q: %w", p.done.path.raw, err)
		}
		empty = false
	}
	if empty {
		return nil, nil
	}
	return tree.render(nil, nil), nil
}

var usageFields = [3]string{"usage.prompt", "usage.completion", "usage.reasoning"}

// doneValue is a JSON value that meets a done condition.
func doneValue(d doneRule) string {
	if !d.neq {
		return d.want.raw
	}
	if d.want.typ == fastjson.TypeString && string(d.want.str) == "stop" {
		return "true"
	}
	return `"stop"`
}

// Fail implements targets.StreamWriter: the message at the error path, or a
// bare message when the spec has no error path.
func (w *writer) Fail(message string) error {
	if message == "" {
		message = "error"
	}
	q, err := json.Marshal(message)
	if err != nil {
		return err
	}
	if w.s.p.errPath.keys == nil {
		return w.frame(fmt.Appendf(nil, `{"error":%s}`, q))
	}
	var tree node
	if err := tree.set(w.s.p.errPath.keys, q); err != nil {
		return err
	}
	return w.frame(tree.render(nil, nil))
}

// node is a JSON document under construction: a leaf holding raw JSON (nil
// raw is the hole a token goes in), an object, or an array.
type node struct {
	leaf  bool
	raw   []byte
	array bool
	names []string // object member names, in the order they were set
	kids  []*node  // object members or array items; a nil item is null
}

// set puts raw at keys, making objects and arrays on the way.
func (n *node) set(keys []string, raw []byte) error {
	if len(keys) == 0 {
		if n.leaf || n.kids != nil {
			return errors.New("two values at one place")
		}
		n.leaf, n.raw = true, raw
		return nil
	}
	if n.leaf {
		return errors.New("a value inside a value")
	}
	k := keys[0]
	idx := isIndex(k)
	if n.kids != nil && n.array != idx {
		return errors.New("an array index and an object key at one place in the frame")
	}
	n.array = idx
	var kid **node
	if idx {
		i := mustAtoi(k)
		if i > maxServerIndex {
			return fmt.Errorf("index %d above %d", i, maxServerIndex)
		}
		for len(n.kids) <= i {
			n.kids = append(n.kids, nil)
		}
		kid = &n.kids[i]
	} else {
		for j, name := range n.names {
			if name == k {
				kid = &n.kids[j]
			}
		}
		if kid == nil {
			n.names = append(n.names, k)
			n.kids = append(n.kids, nil)
			kid = &n.kids[len(n.kids)-1]
		}
	}
	if *kid == nil {
		*kid = &node{}
	}
	return (*kid).set(keys[1:], raw)
}

// render appends n as JSON to b. A hole writes nothing and sets *hole to
// where it is.
func (n *node) render(b []byte, hole *int) []byte {
	switch {
	case n == nil:
		return append(b, "null"...)
	case n.leaf:
		if n.raw == nil && hole != nil {
			*hole = len(b)
			return b
		}
		return append(b, n.raw...)
	case n.array:
		b = append(b, '[')
		for i, k := range n.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = k.render(b, hole)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i, k := range n.kids {
		if i > 0 {
			b = append(b, ',')
		}
		q, _ := json.Marshal(n.names[i])
		b = append(append(b, q...), ':')
		b = k.render(b, hole)
	}
	return append(b, '}')
}
