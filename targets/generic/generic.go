package generic

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"text/template"

	"github.com/valyala/fastjson"

	"github.com/streamgauge/streamgauge/targets"
)

// Protocol is a Spec compiled: the client side of --api generic. It is safe
// for concurrent use.
type Protocol struct {
	spec        Spec
	path        string
	modelInPath bool
	auth        auth
	headers     []header
	tmpl        *template.Template
	framing     targets.Framing
	text        path
	reasoning   path
	usage       [3]path // prompt, completion, reasoning; keys nil when unset
	errPath     path
	done        doneRule
}

var (
	_ targets.Protocol      = (*Protocol)(nil)
	_ targets.EOFTerminated = (*Protocol)(nil)
)

// Name implements targets.Protocol.
func (*Protocol) Name() string { return "generic" }

// Spec returns the spec with its defaults filled in (method, auth, framing
// in lower case), for run.json.
func (p *Protocol) Spec() Spec {
	s := p.spec
	s.Headers = maps.Clone(s.Headers)
	return s
}

// Path implements targets.Protocol: Spec.Path with {model} replaced.
func (p *Protocol) Path(r *targets.Request) string {
	if p.modelInPath {
		return strings.ReplaceAll(p.path, "{model}", url.PathEscape(r.Model))
	}
	return p.path
}

// Framing implements targets.Protocol.
func (p *Protocol) Framing() targets.Framing { return p.framing }

// EndsAtEOF implements targets.EOFTerminated: true when Spec.Done is eof.
func (p *Protocol) EndsAtEOF() bool { return p.done.kind == doneEOF }

// Authorize implements targets.Protocol: the constant headers, and the key
// in the auth header.
func (p *Protocol) Authorize(h http.Header, key string) {
	for _, kv := range p.headers {
		h[kv.name] = []string{kv.value}
	}
	if key != "" {
		h[p.auth.header] = []string{p.auth.prefix + key + p.auth.suffix}
	}
}

// Body implements targets.Protocol: the request template executed on r. A
// body that is not valid JSON is an error.
func (p *Protocol) Body(r *targets.Request) ([]byte, error) {
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, newTemplateData(r)); err != nil {
		return nil, fmt.Errorf("generic.request: %w", err)
	}
	if err := fastjson.ValidateBytes(b.Bytes()); err != nil {
		return nil, fmt.Errorf("generic.request: the body is not valid JSON (write text with json, e.g. {{json .Prompt}}): %v", err)
	}
	return b.Bytes(), nil
}

// NewDecoder implements targets.Protocol.
func (p *Protocol) NewDecoder() targets.Decoder { return &decoder{p: p} }

// decoder decodes one stream. It keeps a fastjson parser across frames, so a
// one-token frame allocates only its text.
type decoder struct {
	p              *Protocol
	parser         fastjson.Parser
	usage          targets.Usage // cumulative; the client copies what it keeps
	lastCompletion int
	counting       bool // a completion count came before this frame
}

// Decode implements targets.Decoder.
func (d *decoder) Decode(f *targets.Frame, ev *targets.Event) error {
	p := d.p
	data := f.Data
	if p.done.kind == doneLine && bytes.Equal(bytes.TrimSpace(data), p.done.line) {
		ev.Done = true
		return nil
	}
	if isBlank(data) {
		return nil
	}
	v, err := d.parser.ParseBytes(data)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if p.errPath.keys != nil {
		if e := v.Get(p.errPath.keys...); isError(e) {
			ev.Err = errorText(e)
			return nil
		}
	}
	// Read everything before filling ev, so a frame that fails leaves the
	// event and the decoder's state as they were.
	content, err := text(v, &p.text)
	if err != nil {
		return err
	}
	var reasoning []byte
	if p.reasoning.keys != nil {
		if reasoning, err = text(v, &p.reasoning); err != nil {
			return err
		}
	}
	var counts [3]int
	seen := [3]bool{}
	for i := range p.usage {
		u := &p.usage[i]
		if u.keys == nil {
			continue
		}
		x := v.Get(u.keys...)
		if x == nil || x.Type() == fastjson.TypeNull {
			continue
		}
		n, err := x.Int()
		if err != nil || n < 0 {
			return fmt.Errorf("%s: want a whole number >= 0, got %s", u.raw, clip(x.String(), 40))
		}
		counts[i], seen[i] = n, true
	}
	if len(content) > 0 {
		ev.Content = string(content)
	}
	if len(reasoning) > 0 {
		ev.Reasoning = string(reasoning)
	}
	if seen[0] {
		d.usage.PromptTokens = counts[0]
	}
	if seen[1] {
		n := counts[1]
		// Per-chunk usage: the growth of the cumulative count since the
		// last frame is this frame's tokens. A count that first comes with
		// text (the total on the last frame) says nothing about that frame
		// alone.
		if d.counting && ev.TokenBearing() && n > d.lastCompletion {
			ev.Tokens = n - d.lastCompletion
		}
		d.lastCompletion, d.counting = n, true
		d.usage.CompletionTokens = n
	}
	if seen[2] {
		d.usage.ReasoningTokens = counts[2]
	}
	if seen[0] || seen[1] || seen[2] {
		ev.Usage = &d.usage
	}
	if p.done.kind == doneCond {
		// An absent path matches neither == nor !=.
		if x := v.Get(p.done.path.keys...); x != nil && p.done.want.matches(x) != p.done.neq {
			ev.Done = true
		}
	}
	return nil
}

// text returns the string at pt; absent or null is no text, any other type
// an error.
func text(v *fastjson.Value, pt *path) ([]byte, error) {
	x := v.Get(pt.keys...)
	if x == nil {
		return nil, nil
	}
	switch x.Type() {
	case fastjson.TypeString:
		return x.GetStringBytes(), nil
	case fastjson.TypeNull:
		return nil, nil
	}
	return nil, fmt.Errorf("%s: want a string, got %s", pt.raw, x.Type())
}

// isBlank reports whether a frame holds only spaces (a keep-alive).
func isBlank(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}

// isError reports whether the value at the error path marks an error: it is
// present and not null, false, 0, "", {} or [].
func isError(e *fastjson.Value) bool {
	if e == nil {
		return false
	}
	switch e.Type() {
	case fastjson.TypeNull, fastjson.TypeFalse:
		return false
	case fastjson.TypeString:
		return len(e.GetStringBytes()) > 0
	case fastjson.TypeNumber:
		return e.GetFloat64() != 0
	case fastjson.TypeObject:
		return e.GetObject().Len() > 0
	case fastjson.TypeArray:
		return len(e.GetArray()) > 0
	}
	return true
}

// errorText is the message of an error value: a string, an object's
// "message" (after its "type" when it has one), or the JSON text.
func errorText(e *fastjson.Value) string {
	if e.Type() == fastjson.TypeString {
		return string(e.GetStringBytes())
	}
	if e.Type() == fastjson.TypeObject {
		if msg := e.GetStringBytes("message"); len(msg) > 0 {
			if typ := e.GetStringBytes("type"); len(typ) > 0 {
				return string(typ) + ": " + string(msg)
			}
			return string(msg)
		}
	}
	return e.String()
}

// errNoBody is returned by the server for an empty request.
var errNoBody = errors.New("empty request body")
