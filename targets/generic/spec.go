package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/targets"
)

// Spec is how to speak an API, written in a profile file under `generic:`.
// The package documentation gives the grammar of every field.
type Spec struct {
	// Path is the API's path, e.g. /v1/generate; {model} is replaced by
	// the path-escaped model.
	Path string `mapstructure:"path" json:"path"`
	// Method is POST (the default); the client sends no other.
	Method string `mapstructure:"method" json:"method"`
	// Headers are constant headers. Their values may not hold secrets: the
	// key comes from --api-key-env and goes in the Auth header.
	Headers map[string]string `mapstructure:"headers" json:"headers,omitempty"`
	// Auth is the header that carries the API key: "Authorization" (sent as
	// "Bearer KEY", the default), another name such as "X-Api-Key" (sent
	// raw), or "NAME: VALUE" with {key} in VALUE.
	Auth string `mapstructure:"auth" json:"auth"`
	// Request is a text/template of the JSON body over TemplateData, with a
	// json function that writes any value as JSON.
	Request string `mapstructure:"request" json:"request"`
	// Framing is sse or ndjson.
	Framing string `mapstructure:"framing" json:"framing"`
	// Text is the path of the token text in each frame:
	// choices.0.delta.content.
	Text string `mapstructure:"text" json:"text"`
	// Reasoning is the path of the reasoning text, if any.
	Reasoning string `mapstructure:"reasoning" json:"reasoning,omitempty"`
	// Done is the end marker: eof, PATH==VALUE, PATH!=VALUE, or a literal
	// data line such as [DONE].
	Done string `mapstructure:"done" json:"done"`
	// Usage holds the paths of the token counts, in whatever frame carries
	// them.
	Usage UsageSpec `mapstructure:"usage" json:"usage,omitzero"`
	// Error is the path whose presence marks an error frame.
	Error string `mapstructure:"error" json:"error,omitempty"`
}

// UsageSpec holds the paths of the server's token counts. Each is optional.
type UsageSpec struct {
	Prompt     string `mapstructure:"prompt" json:"prompt,omitempty"`
	Completion string `mapstructure:"completion" json:"completion,omitempty"`
	Reasoning  string `mapstructure:"reasoning" json:"reasoning,omitempty"`
}

// TemplateData is what the request template sees.
type TemplateData struct {
	// Prompt is the request's prompt, or its chat messages' contents joined
	// by newlines.
	Prompt string
	// Messages are the chat messages, or one user message with the prompt.
	Messages []targets.Message
	// MaxTokens caps the output; 0 when the workload sets none.
	MaxTokens int
	Model     string
	// Stream is always true.
	Stream    bool
	IgnoreEOS bool
}

// newTemplateData maps a request onto the template's fields.
func newTemplateData(r *targets.Request) *TemplateData {
	prompt := r.Prompt
	if prompt == "" && len(r.Messages) > 0 {
		parts := make([]string, len(r.Messages))
		for i, m := range r.Messages {
			parts[i] = m.Content
		}
		prompt = strings.Join(parts, "\n")
	}
	return &TemplateData{Prompt: prompt, Messages: r.ChatMessages(), MaxTokens: r.MaxTokens,
		Model: r.Model, Stream: true, IgnoreEOS: r.IgnoreEOS}
}

// Validate reports every problem with s, one line each, naming the field.
func (s Spec) Validate() error {
	_, err := New(s)
	return err
}

// doneKind is how a stream ends.
type doneKind int

const (
	doneLine doneKind = iota // a literal data line
	doneCond                 // PATH==VALUE or PATH!=VALUE
	doneEOF                  // the server closes the stream
)

// doneRule is a parsed Spec.Done.
type doneRule struct {
	kind doneKind
	line []byte
	path path
	neq  bool
	want scalar
}

// scalar is a JSON scalar to compare a frame's value with.
type scalar struct {
	typ fastjson.Type
	str []byte
	num float64
	raw string // as written, normalized: null, true, 1.5, "stop"
}

// matches reports whether x holds the scalar.
func (s *scalar) matches(x *fastjson.Value) bool {
	if x.Type() != s.typ {
		return false
	}
	switch s.typ {
	case fastjson.TypeString:
		return bytes.Equal(x.GetStringBytes(), s.str)
	case fastjson.TypeNumber:
		return x.GetFloat64() == s.num
	}
	return true // null, true, false: the type is the value
}

// path is a parsed PATH: its text and its keys for fastjson's Get.
type path struct {
	raw  string
	keys []string
}

// maxPathKeys bounds the depth of a path.
const maxPathKeys = 32

// parsePath parses a dot-separated path.
func parsePath(s string) (path, error) {
	if s == "" {
		return path{}, errors.New("empty path")
	}
	if !utf8.ValidString(s) {
		return path{}, fmt.Errorf("%q: not valid UTF-8", s)
	}
	if strings.TrimSpace(s) != s {
		return path{}, fmt.Errorf("%q: spaces around the path", s)
	}
	if i := strings.IndexAny(s, "[]"); i >= 0 {
		return path{}, fmt.Errorf("%q: index arrays with a dot, e.g. choices.0.delta, not choices[0].delta", s)
	}
	keys := strings.Split(s, ".")
	if len(keys) > maxPathKeys {
		return path{}, fmt.Errorf("%q: deeper than %d keys", s, maxPathKeys)
	}
	for i, k := range keys {
		if k == "" {
			return path{}, fmt.Errorf("%q: empty key %d (a leading, trailing or doubled dot)", s, i+1)
		}
		for _, c := range k {
			if c < 0x20 || c == 0x7f {
				return path{}, fmt.Errorf("%q: control character in key %d", s, i+1)
			}
		}
	}
	return path{raw: s, keys: keys}, nil
}

// isIndex reports whether a key is an array index: exactly what the
// decoder's fastjson Get takes as one (strconv.Atoi accepts it and it is not
// negative: "0", "007", "+1"), so that the checks on a spec (overlapping
// paths, the simulator's index bound) see the paths the decoder reads.
func isIndex(k string) bool {
	n, err := strconv.Atoi(k)
	return err == nil && n >= 0
}

// parseDone parses the done grammar.
func parseDone(s string) (doneRule, error) {
	if s == "" {
		return doneRule{}, errors.New(`required: a data line such as [DONE], a condition such as done==true, or eof`)
	}
	if s == "eof" {
		return doneRule{kind: doneEOF}, nil
	}
	if !utf8.ValidString(s) {
		return doneRule{}, fmt.Errorf("%q: not valid UTF-8", s)
	}
	op, neq := "==", false
	i := strings.Index(s, "==")
	if j := strings.Index(s, "!="); j >= 0 && (i < 0 || j < i) {
		i, op, neq = j, "!=", true
	}
	if i < 0 {
		if strings.TrimSpace(s) != s {
			return doneRule{}, fmt.Errorf("%q: spaces around the data line", s)
		}
		if strings.ContainsAny(s, "\r\n") {
			return doneRule{}, fmt.Errorf("%q: a data line cannot hold a line break", s)
		}
		return doneRule{kind: doneLine, line: []byte(s)}, nil
	}
	p, err := parsePath(strings.TrimSpace(s[:i]))
	if err != nil {
		return doneRule{}, fmt.Errorf("condition %q: %w", s, err)
	}
	want, err := parseScalar(strings.TrimSpace(s[i+len(op):]))
	if err != nil {
		return doneRule{}, fmt.Errorf("condition %q: %w", s, err)
	}
	return doneRule{kind: doneCond, path: p, neq: neq, want: want}, nil
}

// parseScalar parses the VALUE of a done condition.
func parseScalar(s string) (scalar, error) {
	if s == "" {
		return scalar{}, errors.New(`no value after the operator: compare with null, true, false, a number or a "string"`)
	}
	v, err := fastjson.Parse(s)
	if err != nil {
		return scalar{}, fmt.Errorf(`value %s is not JSON: quote strings, e.g. state=="finished"`, s)
	}
	sc := scalar{typ: v.Type()}
	switch sc.typ {
	case fastjson.TypeString:
		sc.str = v.GetStringBytes()
	case fastjson.TypeNumber:
		sc.num = v.GetFloat64()
	case fastjson.TypeObject, fastjson.TypeArray:
		return scalar{}, fmt.Errorf(`value %s: compare with null, true, false, a number or a "string", not an %s`, s, sc.typ)
	}
	sc.raw = v.String()
	return sc, nil
}

// auth is a parsed Spec.Auth: the header and the text around the key.
type auth struct {
	header         string
	prefix, suffix string
}

func parseAuth(s string) (auth, error) {
	if s == "" {
		return auth{header: "Authorization", prefix: "Bearer "}, nil
	}
	name, value, hasValue := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !validHeaderName(name) {
		return auth{}, fmt.Errorf("%q: want a header name such as X-Api-Key, or NAME: VALUE with {key} in VALUE", secret.HeaderLine(s))
	}
	name = http.CanonicalHeaderKey(name)
	if !hasValue {
		if name == "Authorization" {
			return auth{header: name, prefix: "Bearer "}, nil
		}
		return auth{header: name}, nil
	}
	value = strings.TrimSpace(value)
	if strings.Count(value, "{key}") != 1 {
		// The value may be the literal key, written where {key} belongs.
		return auth{}, fmt.Errorf("%q: the value must hold {key} once, e.g. Authorization: Token {key}", secret.HeaderLine(s))
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return auth{}, fmt.Errorf("%q: a line break in the value", secret.HeaderLine(s))
	}
	pre, suf, _ := strings.Cut(value, "{key}")
	return auth{header: name, prefix: pre, suffix: suf}, nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// managedHeaders are set by the HTTP client itself.
var managedHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection"}

// looksSecret reports whether a canonical header name usually carries a
// credential.
func looksSecret(name string) bool {
	switch name {
	case "Authorization", "Proxy-Authorization", "Cookie", "Api-Key", "Apikey", "X-Api-Key", "X-Apikey":
		return true
	}
	for _, suf := range []string{"-Key", "-Token", "-Secret", "-Password"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return false
}

// header is one constant header, its name canonical.
type header struct{ name, value string }

func parseHeaders(m map[string]string, a auth) ([]header, []error) {
	var hs []header
	var errs []error
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := m[k]
		field := "generic.headers." + k
		if !validHeaderName(k) {
			errs = append(errs, fmt.Errorf("%s: not a valid header name", field))
			continue
		}
		name := http.CanonicalHeaderKey(k)
		switch {
		case name == a.header || looksSecret(name):
			errs = append(errs, fmt.Errorf("%s: looks like a credential, and the profile is saved in run.json; pass the key with --api-key-env and name its header in generic.auth", field))
		case slices.Contains(managedHeaders, name):
			errs = append(errs, fmt.Errorf("%s: set by the HTTP client, not by a profile", field))
		case strings.ContainsAny(v, "\r\n\x00"):
			errs = append(errs, fmt.Errorf("%s: a line break in the value", field))
		default:
			hs = append(hs, header{name, v})
		}
	}
	return hs, errs
}

// parseAPIPath checks Spec.Path.
func parseAPIPath(s string) (string, error) {
	if s == "" {
		return "", errors.New("required: the API's path, e.g. /v1/generate")
	}
	if !strings.HasPrefix(s, "/") {
		return "", fmt.Errorf("%q: must start with /", s)
	}
	if strings.ContainsAny(s, " \t\r\n\x00#") {
		return "", fmt.Errorf("%q: spaces, control characters and # are not allowed", s)
	}
	rest := strings.ReplaceAll(s, "{model}", "m")
	if strings.ContainsAny(rest, "{}") {
		return "", fmt.Errorf("%q: only {model} can be substituted", s)
	}
	if _, err := url.Parse(rest); err != nil {
		return "", fmt.Errorf("%q: %w", s, err)
	}
	return s, nil
}

// maxSampleBody bounds the sample bodies New renders.
const maxSampleBody = 1 << 20

// errBodyTooLarge stops a sample render that runs away.
var errBodyTooLarge = errors.New("the sample body passes 1 MiB")

// limitedBuffer is a buffer that refuses to grow past a bound.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.max > 0 && b.Len()+len(p) > b.max {
		return 0, errBodyTooLarge
	}
	return b.Buffer.Write(p)
}

// funcs are the template's functions.
var funcs = template.FuncMap{"json": jsonText}

// jsonText writes v as JSON, without HTML escaping.
func jsonText(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// sampleRequests exercise a template's branches and its quoting.
func sampleRequests() []*targets.Request {
	prompt := "He said \"hi\" \\ then left.\n\tA <b>&</b> \u00e9\u4e2d"
	return []*targets.Request{
		{Model: "sample-model", Messages: []targets.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: prompt}},
			MaxTokens: 16, IgnoreEOS: true},
		{Prompt: prompt},
	}
}

// parseTemplate parses and checks the request template.
func parseTemplate(s string) (*template.Template, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New(`required: a template of the JSON body, e.g. {"prompt": {{json .Prompt}}, "max_tokens": {{.MaxTokens}}}`)
	}
	t, err := template.New("request").Funcs(funcs).Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, err
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		if err := checkRanges(tt.Root, 0); err != nil {
			return nil, err
		}
	}
	for _, r := range sampleRequests() {
		b := limitedBuffer{max: maxSampleBody}
		if err := t.Execute(&b, newTemplateData(r)); err != nil {
			return nil, fmt.Errorf("on a sample request: %w", err)
		}
		if err := fastjson.ValidateBytes(b.Bytes()); err != nil {
			return nil, fmt.Errorf("renders invalid JSON for a sample request (write text with json, e.g. {{json .Prompt}}): %v", err)
		}
	}
	return t, nil
}

// maxRangeDepth bounds how deep ranges nest.
const maxRangeDepth = 3

// checkRanges bounds the work a template can do: it refuses a range over
// anything but a field or a variable's field (ranging over a number could
// loop for as long as it likes), ranges nested deeper than maxRangeDepth,
// and {{template}} calls (which could recurse inside a range).
func checkRanges(n parse.Node, depth int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkRanges(c, depth); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		if !rangeable(n.Pipe) {
			return fmt.Errorf("%s: range over a field such as .Messages", n.Pipe)
		}
		if depth+1 > maxRangeDepth {
			return fmt.Errorf("%s: ranges nested deeper than %d", n.Pipe, maxRangeDepth)
		}
		if err := checkRanges(n.List, depth+1); err != nil {
			return err
		}
		return checkRanges(n.ElseList, depth)
	case *parse.TemplateNode:
		return fmt.Errorf("{{template %q}}: a body is one template, without {{template}} or {{block}}", n.Name)
	case *parse.IfNode:
		if err := checkRanges(n.List, depth); err != nil {
			return err
		}
		return checkRanges(n.ElseList, depth)
	case *parse.WithNode:
		if err := checkRanges(n.List, depth); err != nil {
			return err
		}
		return checkRanges(n.ElseList, depth)
	}
	return nil
}

func rangeable(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return true
	case *parse.VariableNode:
		return len(a.Ident) > 1
	}
	return false
}

// New checks spec and returns its protocol. The error names every field that
// is wrong, one line each.
func New(spec Spec) (*Protocol, error) {
	p := &Protocol{spec: spec}
	var errs []error
	fail := func(field string, err error) {
		errs = append(errs, fmt.Errorf("generic.%s: %w", field, err))
	}
	var err error
	if p.path, err = parseAPIPath(spec.Path); err != nil {
		fail("path", err)
	}
	p.modelInPath = strings.Contains(spec.Path, "{model}")
	switch {
	case spec.Method == "" || strings.EqualFold(spec.Method, http.MethodPost):
		p.spec.Method = http.MethodPost
	default:
		fail("method", fmt.Errorf("%q: only POST is supported (the client sends every request with POST)", spec.Method))
	}
	if p.auth, err = parseAuth(spec.Auth); err != nil {
		fail("auth", err)
	}
	if spec.Auth == "" {
		p.spec.Auth = "Authorization"
	}
	var herrs []error
	p.headers, herrs = parseHeaders(spec.Headers, p.auth)
	errs = append(errs, herrs...)
	if p.tmpl, err = parseTemplate(spec.Request); err != nil {
		fail("request", err)
	}
	switch strings.ToLower(spec.Framing) {
	case "sse":
		p.framing, p.spec.Framing = targets.SSE, "sse"
	case "ndjson":
		p.framing, p.spec.Framing = targets.NDJSON, "ndjson"
	case "":
		fail("framing", errors.New("required: sse or ndjson"))
	default:
		fail("framing", fmt.Errorf("%q: want sse or ndjson", spec.Framing))
	}
	if p.text, err = parsePath(spec.Text); err != nil {
		fail("text", err)
	}
	optional := func(field, s string, dst *path) {
		if s == "" {
			return
		}
		if *dst, err = parsePath(s); err != nil {
			fail(field, err)
		}
	}
	optional("reasoning", spec.Reasoning, &p.reasoning)
	if p.reasoning.keys != nil && len(p.reasoning.keys) == len(p.text.keys) && overlaps(p.reasoning.keys, p.text.keys) {
		fail("reasoning", fmt.Errorf("%q: the same path as generic.text", spec.Reasoning))
	}
	optional("usage.prompt", spec.Usage.Prompt, &p.usage[0])
	optional("usage.completion", spec.Usage.Completion, &p.usage[1])
	optional("usage.reasoning", spec.Usage.Reasoning, &p.usage[2])
	optional("error", spec.Error, &p.errPath)
	if p.done, err = parseDone(spec.Done); err != nil {
		fail("done", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
