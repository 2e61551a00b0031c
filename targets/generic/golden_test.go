package generic_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/spf13/viper"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/generic"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// loadSpec reads the generic block of a profile file the way a profile is
// read: YAML through viper, unknown keys refused.
func loadSpec(t testing.TB, path string) generic.Spec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sub := v.Sub("generic")
	if sub == nil {
		t.Fatalf("%s: no generic block", path)
	}
	var spec generic.Spec
	if err := sub.UnmarshalExact(&spec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return spec
}

// mustNew compiles the spec in a profile file.
func mustNew(t testing.TB, path string) *generic.Protocol {
	t.Helper()
	p, err := generic.New(loadSpec(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// event is one decoded frame as the golden files show it.
type event struct {
	Event     string `json:"event,omitempty"`
	Content   string `json:"content,omitempty"`
	Reasoning string `json:"reasoning,omitempty"`
	Tokens    int    `json:"tokens,omitempty"`
	Usage     *usage `json:"usage,omitempty"`
	Done      bool   `json:"done,omitempty"`
	Err       string `json:"err,omitempty"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	ReasoningTokens  int `json:"reasoning_tokens"`
}

// transcript is a whole decoded stream, read as the client reads it: it
// stops at a decode error, an in-stream error, and (ndjson) the done frame.
type transcript struct {
	Events      []event `json:"events"`
	DecodeError string  `json:"decode_error,omitempty"`
	// End is "eof", "done" (ndjson stops at its done frame), "decode error",
	// "in-stream error", or the reader's error.
	End string `json:"end"`
	// Complete is what the client concludes: the stream ended as the spec
	// says a whole stream ends.
	Complete  bool   `json:"complete"`
	Err       string `json:"err,omitempty"`
	Content   string `json:"content,omitempty"`
	Reasoning string `json:"reasoning,omitempty"`
	Frames    int    `json:"token_frames"`
	Tokens    int    `json:"tokens,omitempty"`
	Usage     *usage `json:"usage,omitempty"`
}

func decodeStream(t testing.TB, p targets.Protocol, r io.Reader) transcript {
	t.Helper()
	fr := targets.NewFrameReader(p.Framing(), r, 0)
	dec := p.NewDecoder()
	tr := transcript{Events: []event{}}
	done := false
	var f targets.Frame
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("Next never stopped")
		}
		if err := fr.Next(&f); err != nil {
			tr.End = "eof"
			if !errors.Is(err, io.EOF) {
				tr.End = err.Error()
			}
			et, ok := p.(targets.EOFTerminated)
			tr.Complete = done || (errors.Is(err, io.EOF) && ok && et.EndsAtEOF())
			return tr
		}
		var ev targets.Event
		if err := dec.Decode(&f, &ev); err != nil {
			tr.DecodeError = err.Error()
			tr.End = "decode error"
			return tr
		}
		e := event{Event: string(f.Event), Content: ev.Content, Reasoning: ev.Reasoning,
			Tokens: ev.Tokens, Done: ev.Done, Err: ev.Err}
		if ev.Usage != nil {
			e.Usage = &usage{ev.Usage.PromptTokens, ev.Usage.CompletionTokens, ev.Usage.ReasoningTokens}
			tr.Usage = e.Usage
		}
		tr.Events = append(tr.Events, e)
		tr.Content += ev.Content
		tr.Reasoning += ev.Reasoning
		tr.Tokens += ev.Tokens
		if ev.TokenBearing() {
			tr.Frames++
		}
		if ev.Err != "" {
			tr.Err = ev.Err
			tr.End = "in-stream error"
			return tr
		}
		if ev.Done {
			done = true
			if p.Framing() == targets.NDJSON {
				tr.End, tr.Complete = "done", true
				return tr
			}
		}
	}
}

// transcripts lists testdata's streams; NAME_variant.sse and NAME.ndjson are
// decoded with the spec in NAME.yaml.
func transcripts(t testing.TB) []string {
	var paths []string
	for _, ext := range []string{"*.sse", "*.ndjson"} {
		m, err := filepath.Glob(filepath.Join("testdata", ext))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Fatal("no transcripts in testdata")
	}
	return paths
}

func specFor(stream string) string {
	base := filepath.Base(stream)
	name, _, _ := strings.Cut(strings.TrimSuffix(base, filepath.Ext(base)), "_")
	return filepath.Join("testdata", name+".yaml")
}

// TestGolden decodes every transcript in testdata with its spec and compares
// the result with NAME.golden.json; -update rewrites the goldens. Reading the
// stream one byte at a time or in halves must not change what it means.
//
//   - acme (SSE, typed events, done state=="finished", usage in a stats
//     object, fault): a whole stream with reasoning, keep-alive comments,
//     "fault": null and "" (no error), an empty piece, text with escapes,
//     and the summary frame carrying the last piece; acme_fault, an error
//     object with a type; acme_truncated and acme_cut_mid_line, streams
//     that stop before the summary; acme_wrong_type, a number where the
//     text belongs.
//   - heron (NDJSON, done==true, cumulative counts on every line, error ""
//     when none): a multi-token line (2 tokens by the count), a blank line;
//     heron_error, an error string; heron_cut, a line cut short.
//   - lark (NDJSON, eof): text inside an array, an empty array, usage on
//     the last line only.
//   - wren (NDJSON, done choices.0.finish_reason!=null, usage on the last
//     line, error.message): a finish reason null, then absent (neither ends
//     the stream), an empty choices array, a null error message, and a line
//     after the end that the client never reads; wren_error, a nested
//     error message.
//   - vllm (OpenAI chat through a spec): vLLM's own transcripts, copied
//     from targets/openai/testdata.
func TestGolden(t *testing.T) {
	for _, path := range transcripts(t) {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		t.Run(name, func(t *testing.T) {
			p := mustNew(t, specFor(path))
			stream, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeStream(t, p, bytes.NewReader(stream))
			for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader} {
				if slow := decodeStream(t, p, wrap(bytes.NewReader(stream))); !reflect.DeepEqual(slow, got) {
					t.Errorf("split reads decode differently:\n%+v\nwhole:\n%+v", slow, got)
				}
			}
			var js bytes.Buffer
			enc := json.NewEncoder(&js)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			goldenPath := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(goldenPath, js.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(js.Bytes(), want) {
				t.Errorf("%s differs (go test -update rewrites it); got:\n%s", goldenPath, js.Bytes())
			}
		})
	}
}
