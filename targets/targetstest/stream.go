package targetstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/streamgauge/streamgauge/targets"
)

// StreamEvent is one decoded frame as the whole-stream golden files show it.
type StreamEvent struct {
	Event     string             `json:"event,omitempty"`
	Content   string             `json:"content,omitempty"`
	Reasoning string             `json:"reasoning,omitempty"`
	ToolArgs  string             `json:"tool_args,omitempty"`
	Tokens    int                `json:"tokens,omitempty"`
	Usage     *StreamUsage       `json:"usage,omitempty"`
	Timing    map[string]float64 `json:"timing,omitempty"`
	ID        string             `json:"id,omitempty"`
	Done      bool               `json:"done,omitempty"`
	Err       string             `json:"err,omitempty"`
}

// StreamUsage is a usage report as the whole-stream golden files show it.
type StreamUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	ReasoningTokens  int `json:"reasoning_tokens"`
	// CachedTokens is set when the server reported its cached prompt
	// tokens.
	CachedTokens *int `json:"cached_tokens,omitempty"`
}

// TimingMap is a server's timings as golden files show them: the reported
// fields only, by their record names.
func TimingMap(t *targets.Timing) map[string]float64 {
	m := map[string]float64{}
	for _, f := range [...]struct {
		name  string
		field targets.TimingField
	}{{"queue_ms", targets.TimeQueue}, {"prefill_ms", targets.TimePrefill}, {"decode_ms", targets.TimeDecode}, {"load_ms", targets.TimeLoad}} {
		if v, ok := t.Get(f.field); ok {
			m[f.name] = v
		}
	}
	return m
}

// streamUsage is u as golden files show it.
func streamUsage(u *targets.Usage) *StreamUsage {
	su := &StreamUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, ReasoningTokens: u.ReasoningTokens}
	if u.Cached {
		n := u.CachedTokens
		su.CachedTokens = &n
	}
	return su
}

// Stream is a whole decoded stream: every frame's event, how the stream
// ended, and what a client would keep from it.
type Stream struct {
	Events []StreamEvent `json:"events"`
	// DecodeError is the protocol error that stopped decoding, as the
	// client stops.
	DecodeError string `json:"decode_error,omitempty"`
	// End is "eof" for a clean end of the body, else the reader's error.
	End       string             `json:"end"`
	Done      bool               `json:"done"`
	Err       string             `json:"err,omitempty"`
	Content   string             `json:"content,omitempty"`
	Reasoning string             `json:"reasoning,omitempty"`
	ToolArgs  string             `json:"tool_args,omitempty"`
	Frames    int                `json:"token_frames"`
	Usage     *StreamUsage       `json:"usage,omitempty"`
	Timing    map[string]float64 `json:"timing,omitempty"`
	// ID is the first id the stream carried, as the client keeps it.
	ID string `json:"id,omitempty"`
}

// DecodeStream reads r with p's frame reader and decoder (with
// targets.DecodeFrame) until the body ends or a frame fails to decode, as
// the client does.
func DecodeStream(t testing.TB, p targets.Protocol, r io.Reader) Stream {
	t.Helper()
	fr := targets.NewFrameReader(p.Framing(), r, 0)
	dec := p.NewDecoder()
	tr := Stream{Events: []StreamEvent{}}
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
			return tr
		}
		var ev targets.Event
		if err := targets.DecodeFrame(dec, &f, &ev); err != nil {
			tr.DecodeError = err.Error()
			tr.End = "decode error"
			return tr
		}
		if f.Bare && ev.Err == "" {
			continue // a bare line that is not an error: the client skips it
		}
		se := StreamEvent{Event: string(f.Event), Content: ev.Content, Reasoning: ev.Reasoning,
			ToolArgs: ev.ToolArgs, Tokens: ev.Tokens, Done: ev.Done, Err: ev.Err}
		if ev.Usage != nil {
			se.Usage = streamUsage(ev.Usage)
			tr.Usage = se.Usage
		}
		if ev.Timing != nil {
			se.Timing = TimingMap(ev.Timing)
			tr.Timing = se.Timing
		}
		se.ID = ev.ID
		if tr.ID == "" {
			tr.ID = ev.ID
		}
		tr.Events = append(tr.Events, se)
		tr.Content += ev.Content
		tr.Reasoning += ev.Reasoning
		tr.ToolArgs += ev.ToolArgs
		if ev.TokenBearing() {
			tr.Frames++
		}
		tr.Done = tr.Done || ev.Done
		if tr.Err == "" {
			tr.Err = ev.Err
		}
	}
}

// StreamGoldenOptions says which golden streams StreamGolden reads and what
// it writes.
type StreamGoldenOptions struct {
	// Pattern globs the recorded streams: testdata/*.sse, say.
	Pattern string
	// TrimPrefix is cut from a stream's name to name its subtest.
	TrimPrefix string
	// Seeds keeps the fuzz seed corpus testdata/fuzz/FuzzDecode/NAME in step
	// with the streams: rewritten on Update, else checked.
	Seeds bool
	// Update rewrites the golden files (and seeds) instead of comparing.
	Update bool
}

// StreamGolden decodes every stream o.Pattern matches with DecodeStream and
// compares the indented JSON with NAME.golden.json beside it. Each stream is
// also read one byte at a time, which must not change what it means.
func StreamGolden(t *testing.T, p targets.Protocol, o StreamGoldenOptions) {
	t.Helper()
	for _, path := range GoldenFiles(t, o.Pattern) {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		t.Run(strings.TrimPrefix(name, o.TrimPrefix), func(t *testing.T) {
			stream, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := DecodeStream(t, p, bytes.NewReader(stream))
			if slow := DecodeStream(t, p, iotest.OneByteReader(bytes.NewReader(stream))); !reflect.DeepEqual(slow, got) {
				t.Errorf("one byte at a time decodes differently:\n%+v\nwhole:\n%+v", slow, got)
			}
			js := marshal(t, got)
			dir := filepath.Dir(path)
			goldenPath := filepath.Join(dir, name+".golden.json")
			seed := ""
			if o.Seeds {
				seed = seedPath(dir, name)
			}
			if o.Update {
				writeFiles(t, goldenPath, js, seed, stream)
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(js, want) {
				t.Errorf("%s differs (go test -update rewrites it); got:\n%s", goldenPath, js)
			}
			if seed == "" {
				return
			}
			if have, err := os.ReadFile(seed); err != nil || !bytes.Equal(have, SeedFile(stream)) {
				t.Errorf("fuzz seed %s is missing or stale (go test -update rewrites it)", seed)
			}
		})
	}
}

// marshal is v as the golden files hold it: indented JSON and a newline.
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(js, '\n')
}
