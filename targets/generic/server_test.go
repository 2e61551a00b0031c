package generic_test

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/generic"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// specFiles are the specs in testdata.
func specFiles(t testing.TB) []string {
	m, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no specs in testdata: %v", err)
	}
	return m
}

var roundTripTokens = []string{"Hello", `, "world"`, "\n<b>&</b>\\", " é中🙂", " end"}

// TestRoundTrip writes a stream with each spec's server writer and reads it
// back with the frame reader and the spec's decoder.
func TestRoundTrip(t *testing.T) {
	for _, file := range specFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		spec := loadSpec(t, file)
		t.Run(name, func(t *testing.T) {
			srv, err := generic.NewServer(spec)
			if err != nil {
				t.Fatal(err)
			}
			p, err := generic.New(spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Run("complete", func(t *testing.T) {
				var buf bytes.Buffer
				sw := srv.NewStreamWriter(&buf, &targets.ServerRequest{Stream: true}, "id-1")
				if err := sw.Start(); err != nil {
					t.Fatal(err)
				}
				for _, tok := range roundTripTokens {
					if err := sw.Token(tok); err != nil {
						t.Fatal(err)
					}
				}
				u := targets.Usage{PromptTokens: 11, CompletionTokens: len(roundTripTokens), ReasoningTokens: 2}
				if err := sw.Finish(u); err != nil {
					t.Fatal(err)
				}
				tr := decodeStream(t, p, bytes.NewReader(buf.Bytes()))
				if !tr.Complete || tr.Err != "" || tr.DecodeError != "" {
					t.Fatalf("stream not complete: %+v\n%s", tr, buf.Bytes())
				}
				if want := strings.Join(roundTripTokens, ""); tr.Content != want || tr.Frames != len(roundTripTokens) {
					t.Errorf("content %q in %d frames, want %q in %d", tr.Content, tr.Frames, want, len(roundTripTokens))
				}
				if want := spec.Usage; want != (generic.UsageSpec{}) {
					got := tr.Usage
					if got == nil {
						t.Fatal("no usage")
					}
					if (want.Prompt != "" && got.PromptTokens != 11) || (want.Completion != "" && got.CompletionTokens != len(roundTripTokens)) ||
						(want.Reasoning != "" && got.ReasoningTokens != 2) {
						t.Errorf("usage %+v", *got)
					}
				}
			})
			t.Run("fail", func(t *testing.T) {
				if spec.Error == "" {
					t.Skip("the spec has no error path")
				}
				var buf bytes.Buffer
				sw := srv.NewStreamWriter(&buf, &targets.ServerRequest{Stream: true}, "id-1")
				_ = sw.Start()
				_ = sw.Token("Hi")
				if err := sw.Fail("engine died"); err != nil {
					t.Fatal(err)
				}
				tr := decodeStream(t, p, bytes.NewReader(buf.Bytes()))
				if tr.Err != "engine died" || tr.Content != "Hi" || tr.Complete {
					t.Errorf("got %+v", tr)
				}
			})
			t.Run("request", func(t *testing.T) {
				r := &targets.Request{Model: "m-1", Messages: []targets.Message{{Role: "system", Content: "be brief"},
					{Role: "user", Content: `say "hi"`}}, MaxTokens: 42}
				body, err := p.Body(r)
				if err != nil {
					t.Fatal(err)
				}
				sr, err := srv.ParseRequest(body)
				if err != nil {
					t.Fatal(err)
				}
				if !sr.Stream || sr.MaxTokens != 42 || sr.Prompt != "be brief\nsay \"hi\"" {
					t.Errorf("parsed %+v from %s", sr, body)
				}
				if strings.Contains(spec.Request, ".Model") && sr.Model != "m-1" {
					t.Errorf("model %q from %s", sr.Model, body)
				}
				if _, err := srv.ParseRequest([]byte(`{"prompt": `)); err == nil {
					t.Error("ParseRequest accepted invalid JSON")
				}
			})
		})
	}
}

// TestServerSpeaksOpenAI reads what the server writes for the vLLM spec with
// openai.Chat's own decoder: the spec's output is real OpenAI chat.
func TestServerSpeaksOpenAI(t *testing.T) {
	srv, err := generic.NewServer(loadSpec(t, "testdata/vllm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sw := srv.NewStreamWriter(&buf, &targets.ServerRequest{Stream: true}, "")
	_ = sw.Start()
	for _, tok := range roundTripTokens {
		_ = sw.Token(tok)
	}
	_ = sw.Finish(targets.Usage{PromptTokens: 11, CompletionTokens: 5})
	p := mustNew(t, "testdata/vllm.yaml")
	got := decodeStream(t, p, bytes.NewReader(buf.Bytes()))
	want := decodeStream(t, openai.Chat{}, bytes.NewReader(buf.Bytes()))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("generic decoded\n%+v\nopenai decoded\n%+v", got, want)
	}
	if !got.Complete || got.Usage == nil || got.Usage.CompletionTokens != 5 {
		t.Errorf("got %+v", got)
	}
}

// TestNewServerErrors checks what serving a spec needs beyond New.
func TestNewServerErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*generic.Spec)
		want   string
	}{
		{"bad spec", func(s *generic.Spec) { s.Text = "" }, "generic.text: empty path"},
		{"text inside error", func(s *generic.Spec) { s.Error = "choices" }, "generic.error: \"choices\" overlaps generic.text \"choices.0.text\""},
		{"same usage paths", func(s *generic.Spec) { s.Usage.Prompt, s.Usage.Completion = "u", "u" }, "generic.usage.completion: \"u\" overlaps generic.usage.prompt \"u\""},
		{"done on the text", func(s *generic.Spec) { s.Done = "choices.00!=null" }, "generic.done: \"choices.00\" overlaps generic.text"},
		// The decoder reads any key strconv.Atoi takes as an array index.
		{"error on the text, index with ten digits", func(s *generic.Spec) { s.Error = "choices.0000000000" }, "generic.error: \"choices.0000000000\" overlaps generic.text \"choices.0.text\""},
		{"error on the text, signed index", func(s *generic.Spec) { s.Error = "choices.+0.text" }, "generic.error: \"choices.+0.text\" overlaps generic.text \"choices.0.text\""},
		{"index and key", func(s *generic.Spec) { s.Usage.Prompt, s.Usage.Completion = "u.a", "u.0" },
			"generic.usage.completion: \"u.0\": an array index and an object key at one place in the frame"},
		{"big index", func(s *generic.Spec) { s.Text = "choices.100.text" }, "generic.text: \"choices.100.text\": the simulator writes array indexes up to 64"},
		{"JSON line", func(s *generic.Spec) { s.Done = `{"end":true}` }, "generic.done: \"{\\\"end\\\":true}\": the simulator cannot serve a data line that is JSON"},
		{"model inside a segment", func(s *generic.Spec) { s.Path = "/v1/models/{model}:stream" }, "generic.path: \"/v1/models/{model}:stream\": the simulator serves {model} only as a whole path segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.change(&s)
			_, err := generic.NewServer(s)
			if err == nil || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want one line starting with %s", err, tt.want)
			}
		})
	}
	srv, err := generic.NewServer(generic.Spec{Path: "/m/{model}/gen?x=1", Request: `{}`, Framing: "ndjson", Text: "t", Done: "eof"})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Routes(); len(got) != 1 || got[0] != "/m/{model}/gen" {
		t.Errorf("routes %q", got)
	}
	if srv.ContentType() != "application/x-ndjson" || srv.Name() != "generic" {
		t.Errorf("content type %q, name %q", srv.ContentType(), srv.Name())
	}
}
