package generic_test

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/targets/generic"
)

// validSpec is a spec New accepts; the table changes one field of it.
func validSpec() generic.Spec {
	return generic.Spec{
		Path:    "/v1/generate",
		Request: `{"prompt": {{json .Prompt}}, "max_tokens": {{.MaxTokens}}}`,
		Framing: "sse",
		Text:    "choices.0.text",
		Done:    "[DONE]",
	}
}

// TestNewErrors checks that every kind of mistake is caught by New with one
// line that names the field.
func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*generic.Spec)
		want   string // the error starts with the field and holds the rest
	}{
		{"no path", func(s *generic.Spec) { s.Path = "" }, "generic.path: required"},
		{"relative path", func(s *generic.Spec) { s.Path = "v1/generate" }, "generic.path: \"v1/generate\": must start with /"},
		{"path placeholder", func(s *generic.Spec) { s.Path = "/v1/{id}/generate" }, "generic.path: \"/v1/{id}/generate\": only {model} can be substituted"},
		{"path space", func(s *generic.Spec) { s.Path = "/v1/gen erate" }, "generic.path: \"/v1/gen erate\": spaces"},
		{"method", func(s *generic.Spec) { s.Method = "GET" }, "generic.method: \"GET\": only POST is supported"},
		{"secret header", func(s *generic.Spec) { s.Headers = map[string]string{"X-Api-Key": "sk-123"} }, "generic.headers.X-Api-Key: looks like a credential"},
		{"secret header lower case", func(s *generic.Spec) { s.Headers = map[string]string{"authorization": "Bearer sk"} }, "generic.headers.authorization: looks like a credential"},
		{"auth header as constant", func(s *generic.Spec) { s.Auth = "X-Tenant"; s.Headers = map[string]string{"x-tenant": "a"} }, "generic.headers.x-tenant: looks like a credential"},
		{"header name", func(s *generic.Spec) { s.Headers = map[string]string{"X Tenant": "a"} }, "generic.headers.X Tenant: not a valid header name"},
		{"managed header", func(s *generic.Spec) { s.Headers = map[string]string{"Content-Length": "3"} }, "generic.headers.Content-Length: set by the HTTP client"},
		{"header line break", func(s *generic.Spec) { s.Headers = map[string]string{"X-Note": "a\r\nX-Evil: 1"} }, "generic.headers.X-Note: a line break"},
		{"auth name", func(s *generic.Spec) { s.Auth = "X Key" }, "generic.auth: \"X " + secret.Mask("Key") + "\": want a header name"},
		// The literal key where {key} belongs: named, not quoted.
		{"auth value without key", func(s *generic.Spec) { s.Auth = "Authorization: Token sk-literal" }, "generic.auth: \"Authorization: " + secret.Mask("Token sk-literal") + "\": the value must hold {key} once"},
		{"no request", func(s *generic.Spec) { s.Request = " " }, "generic.request: required"},
		{"template syntax", func(s *generic.Spec) { s.Request = `{"prompt": {{json .Prompt}` }, "generic.request: template: request:1: bad character U+007D"},
		{"unquoted prompt", func(s *generic.Spec) { s.Request = `{"prompt": "{{.Prompt}}"}` }, "generic.request: renders invalid JSON for a sample request (write text with json"},
		{"unknown field", func(s *generic.Spec) { s.Request = `{"prompt": {{json .Promt}}}` }, "generic.request: on a sample request: template: request:1:18: executing \"request\" at <.Promt>: can't evaluate field Promt"},
		{"unknown function", func(s *generic.Spec) { s.Request = `{"prompt": {{toJSON .Prompt}}}` }, "generic.request: template: request:1: function \"toJSON\" not defined"},
		{"missing brace", func(s *generic.Spec) { s.Request = `{"prompt": {{json .Prompt}}` }, "generic.request: renders invalid JSON"},
		{"branch not taken by one sample", func(s *generic.Spec) {
			s.Request = `{"prompt": {{json .Prompt}}{{if .IgnoreEOS}}, "min": {{.MaxTokens}}{{else}}, "min": {{end}}}`
		}, "generic.request: renders invalid JSON"},
		{"range over a number", func(s *generic.Spec) { s.Request = `{{range 1000000000000}}{{end}}{}` }, "generic.request: 1000000000000: range over a field such as .Messages"},
		{"nested ranges", func(s *generic.Spec) {
			s.Request = `{{range .Messages}}{{range $.Messages}}{{range $.Messages}}{{range $.Messages}}{{end}}{{end}}{{end}}{{end}}{}`
		}, "generic.request: $.Messages: ranges nested deeper than 3"},
		{"template call", func(s *generic.Spec) {
			s.Request = `{{define "a"}}{{range $.Messages}}{{template "a" $}}{{end}}{{end}}{{template "a" .}}{}`
		}, "generic.request: {{template \"a\"}}: a body is one template"},
		{"no framing", func(s *generic.Spec) { s.Framing = "" }, "generic.framing: required: sse or ndjson"},
		{"framing", func(s *generic.Spec) { s.Framing = "websocket" }, "generic.framing: \"websocket\": want sse or ndjson"},
		{"no text", func(s *generic.Spec) { s.Text = "" }, "generic.text: empty path"},
		{"brackets", func(s *generic.Spec) { s.Text = "choices[0].text" }, "generic.text: \"choices[0].text\": index arrays with a dot, e.g. choices.0.delta"},
		{"double dot", func(s *generic.Spec) { s.Text = "choices..text" }, "generic.text: \"choices..text\": empty key 2"},
		{"trailing dot", func(s *generic.Spec) { s.Text = "choices.0." }, "generic.text: \"choices.0.\": empty key 3"},
		{"spaces", func(s *generic.Spec) { s.Text = " choices.0.text" }, "generic.text: \" choices.0.text\": spaces around the path"},
		{"control character", func(s *generic.Spec) { s.Text = "a\tb" }, "generic.text: \"a\\tb\": control character in key 1"},
		{"too deep", func(s *generic.Spec) { s.Text = strings.Repeat("a.", 40) + "a" }, "generic.text: "},
		{"reasoning is text", func(s *generic.Spec) { s.Reasoning = s.Text }, "generic.reasoning: \"choices.0.text\": the same path as generic.text"},
		{"reasoning is text, spelled otherwise", func(s *generic.Spec) { s.Reasoning = "choices.00.text" }, "generic.reasoning: \"choices.00.text\": the same path as generic.text"},
		{"reasoning path", func(s *generic.Spec) { s.Reasoning = ".reasoning" }, "generic.reasoning: \".reasoning\": empty key 1"},
		{"usage prompt", func(s *generic.Spec) { s.Usage.Prompt = "usage.prompt tokens " }, "generic.usage.prompt: "},
		{"usage completion", func(s *generic.Spec) { s.Usage.Completion = "usage[1]" }, "generic.usage.completion: "},
		{"usage reasoning", func(s *generic.Spec) { s.Usage.Reasoning = "usage..r" }, "generic.usage.reasoning: "},
		{"error path", func(s *generic.Spec) { s.Error = "error." }, "generic.error: \"error.\": empty key 2"},
		{"no done", func(s *generic.Spec) { s.Done = "" }, "generic.done: required: a data line such as [DONE], a condition such as done==true, or eof"},
		{"unquoted string", func(s *generic.Spec) { s.Done = "state==finished" }, "generic.done: condition \"state==finished\": value finished is not JSON: quote strings, e.g. state==\"finished\""},
		{"object value", func(s *generic.Spec) { s.Done = `state=={"a":1}` }, "generic.done: condition \"state=={\\\"a\\\":1}\": value {\"a\":1}: compare with null, true, false, a number or a \"string\", not an object"},
		{"no value", func(s *generic.Spec) { s.Done = "done==" }, "generic.done: condition \"done==\": no value after the operator"},
		{"no path", func(s *generic.Spec) { s.Done = "!=null" }, "generic.done: condition \"!=null\": empty path"},
		{"bad done path", func(s *generic.Spec) { s.Done = "choices[0].finish_reason!=null" }, "generic.done: condition \"choices[0].finish_reason!=null\": \"choices[0].finish_reason\": index arrays with a dot"},
		{"line with spaces", func(s *generic.Spec) { s.Done = "[DONE] " }, "generic.done: \"[DONE] \": spaces around the data line"},
		{"line break", func(s *generic.Spec) { s.Done = "[DONE]\n" }, "generic.done: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.change(&s)
			_, err := generic.New(s)
			if err == nil {
				t.Fatalf("New accepted %+v", s)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line:\n%s", msg)
			}
			if !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error\n %s\nwant it to start with\n %s", msg, tt.want)
			}
			if s.Validate() == nil {
				t.Error("Validate accepted what New refused")
			}
		})
	}
}

// TestNewErrorsAll checks that New reports every field that is wrong, one
// line each.
func TestNewErrorsAll(t *testing.T) {
	_, err := generic.New(generic.Spec{Path: "x", Method: "PUT", Framing: "sse", Text: "a..b", Done: "state==x"})
	if err == nil {
		t.Fatal("New accepted a bad spec")
	}
	lines := strings.Split(err.Error(), "\n")
	var fields []string
	for _, l := range lines {
		f, _, _ := strings.Cut(l, ":")
		fields = append(fields, f)
	}
	want := "generic.path generic.method generic.request generic.text generic.done"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("fields %s, want %s; error:\n%s", got, want, err)
	}
}

// TestNewAccepts checks the forms New takes and the defaults it fills in.
func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name      string
		change    func(*generic.Spec)
		endsAtEOF bool
	}{
		{"minimal", func(*generic.Spec) {}, false},
		{"lower-case post", func(s *generic.Spec) { s.Method = "post" }, false},
		{"upper-case framing", func(s *generic.Spec) { s.Framing = "NDJSON" }, false},
		{"eof", func(s *generic.Spec) { s.Done = "eof" }, true},
		{"condition", func(s *generic.Spec) { s.Done = `choices.0.finish_reason != null` }, false},
		{"string condition", func(s *generic.Spec) { s.Done = `state=="finished"` }, false},
		{"number condition", func(s *generic.Spec) { s.Done = `code==0` }, false},
		{"line that is JSON", func(s *generic.Spec) { s.Done = `{"end":true}` }, false},
		{"model in path with query", func(s *generic.Spec) { s.Path = "/v2/models/{model}:stream?alt=sse" }, false},
		{"headers and auth", func(s *generic.Spec) {
			s.Auth = "Authorization: Token {key}"
			s.Headers = map[string]string{"X-Tenant": "loadtest", "accept": "text/event-stream"}
		}, false},
		{"range over messages", func(s *generic.Spec) {
			s.Request = `[{{range $i, $m := .Messages}}{{if $i}},{{end}}{{json $m.Content}}{{end}}]`
		}, false},
		{"range over a variable's field", func(s *generic.Spec) {
			s.Request = `[{{range $.Messages}}{{json .Role}},{{end}}0]`
		}, false},
		{"every path", func(s *generic.Spec) {
			s.Reasoning = "choices.0.reasoning"
			s.Usage = generic.UsageSpec{Prompt: "usage.in", Completion: "usage.out", Reasoning: "usage.think"}
			s.Error = "error"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.change(&s)
			p, err := generic.New(s)
			if err != nil {
				t.Fatal(err)
			}
			if p.EndsAtEOF() != tt.endsAtEOF {
				t.Errorf("EndsAtEOF() = %v", p.EndsAtEOF())
			}
			got := p.Spec()
			if got.Method != "POST" || got.Auth == "" || (got.Framing != "sse" && got.Framing != "ndjson") {
				t.Errorf("defaults not filled in: %+v", got)
			}
		})
	}
}
