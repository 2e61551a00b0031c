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

// Stream is a whole decoded stream, read as the client reads it: every
// frame's event, how the stream ended, and what a client keeps from it.
type Stream struct {
	Events []StreamEvent `json:"events"`
	// DecodeError is the protocol error that stopped decoding, as the
	// client stops.
	DecodeError string `json:"decode_error,omitempty"`
	// End is "eof" for a clean end of the body, "decode error", "in-stream
	// error" (the client stops at the first), "done" (an NDJSON stream
	// ends at its done frame), else the reader's error.
	End string `json:"end"`
	// Done is whether a frame said the response was done.
	Done bool `json:"done"`
	// Complete is what the client concludes: the stream ended as the
	// protocol says a whole stream ends (its done frame, or the end of the
	// body for a protocol that ends there).
	Complete  bool   `json:"complete"`
	Err       string `json:"err,omitempty"`
	Content   string `json:"content,omitempty"`
	Reasoning string `json:"reasoning,omitempty"`
	ToolArgs  string `json:"tool_args,omitempty"`
	Frames    int    `json:"token_frames"`
	// Tokens is the sum of the frames' own token counts.
	Tokens int                `json:"tokens,omitempty"`
	Usage  *StreamUsage       `json:"usage,omitempty"`
	Timing map[string]float64 `json:"timing,omitempty"`
	// ID is the first id the stream carried, as the client keeps it.
	ID string `json:"id,omitempty"`
}

// DecodeStream reads r with p's frame reader and decoder (with
// targets.DecodeFrame) as the client does: it skips bare lines that are not
// errors and stops at the end of the body, at a frame that fails to decode,
// at the first in-stream error, and (NDJSON) at the done frame.
func DecodeStream(t testing.TB, p targets.Protocol, r io.Reader) Stream {
	t.Helper()
	fr := targets.NewFrameReader(p.Framing(), r, 0)
	dec := p.NewDecoder()
	et, ok := p.(targets.EOFTerminated)
	endsAtEOF := ok && et.EndsAtEOF()
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
			tr.Complete = tr.Done || (endsAtEOF && errors.Is(err, io.EOF))
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
		tr.Tokens += ev.Tokens
		if ev.TokenBearing() {
			tr.Frames++
		}
		if ev.Err != "" {
			tr.Err = ev.Err
			tr.End = "in-stream error"
			return tr
		}
		tr.Done = tr.Done || ev.Done
		if ev.Done && p.Framing() == targets.NDJSON {
			tr.End, tr.Complete = "done", true
			return tr
		}
	}
}

// StreamGoldenOptions says which golden streams StreamGolden reads, with
// which protocol, and what it writes.
type StreamGoldenOptions struct {
	// Patterns glob the recorded streams: testdata/*.sse, say.
	Patterns []string
	// ProtocolFor, when set, picks the protocol that decodes the stream at
	// path in place of StreamGolden's p; nil leaves the stream out (another
	// test reads it).
	ProtocolFor func(t testing.TB, path string) targets.Protocol
	// TrimPrefix is cut from a stream's name to name its subtest.
	TrimPrefix string
	// Seeds keeps the fuzz seed corpus testdata/fuzz/FuzzDecode/NAME in step
	// with the streams: rewritten on Update, else checked.
	Seeds bool
	// Update rewrites the golden files (and seeds) instead of comparing.
	Update bool
}

// StreamGolden decodes every stream o.Patterns match with DecodeStream and
// compares the indented JSON with NAME.golden.json beside it. Each stream is
// also read one byte at a time and in halves, which must not change what it
// means.
func StreamGolden(t *testing.T, p targets.Protocol, o StreamGoldenOptions) {
	t.Helper()
	for _, path := range GoldenFiles(t, o.Patterns...) {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		proto := p
		if o.ProtocolFor != nil {
			if proto = o.ProtocolFor(t, path); proto == nil {
				continue
			}
		}
		t.Run(strings.TrimPrefix(name, o.TrimPrefix), func(t *testing.T) {
			stream, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := DecodeStream(t, proto, bytes.NewReader(stream))
			for _, split := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader} {
				if slow := DecodeStream(t, proto, split(bytes.NewReader(stream))); !reflect.DeepEqual(slow, got) {
					t.Errorf("split reads decode differently:\n%+v\nwhole:\n%+v", slow, got)
				}
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

// marshal is v as the golden files hold it: indented JSON, <, > and &
// as themselves, and a newline.
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return js.Bytes()
}

// RoundTrip writes a stream with p's stream writer for req and id (Start,
// each of tokens, Finish with usage) and reads it back with DecodeStream:
// the stream must end cleanly, done, with every non-empty token as the
// content of a frame of its own, in order. It returns the stream and what
// it decoded to, for the protocol's own checks.
func RoundTrip(t *testing.T, p Protocol, req *targets.ServerRequest, id string, tokens []string, usage targets.Usage) ([]byte, Stream) {
	t.Helper()
	var buf bytes.Buffer
	sw := p.NewStreamWriter(&buf, req, id)
	if err := sw.Start(); err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens {
		if err := sw.Token(tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Finish(usage); err != nil {
		t.Fatal(err)
	}
	tr := DecodeStream(t, p, bytes.NewReader(buf.Bytes()))
	if tr.DecodeError != "" || tr.End != "eof" || !tr.Done || tr.Err != "" {
		t.Fatalf("stream did not decode cleanly: %+v\n%s", tr, buf.String())
	}
	var got, want []string
	for _, ev := range tr.Events {
		if ev.Content != "" {
			got = append(got, ev.Content)
		}
	}
	for _, tok := range tokens {
		if tok != "" {
			want = append(want, tok) // an empty token carries no text
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
	if tr.Frames != len(want) {
		t.Errorf("token frames = %d, want %d (role and finish frames are not tokens)", tr.Frames, len(want))
	}
	return buf.Bytes(), tr
}
