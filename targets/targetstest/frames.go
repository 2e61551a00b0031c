package targetstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
)

// Event is a decoded frame as the frame-by-frame golden files record it.
type Event struct {
	Content     string             `json:"content,omitempty"`
	Reasoning   string             `json:"reasoning,omitempty"`
	ToolArgs    string             `json:"tool_args,omitempty"`
	Tokens      int                `json:"tokens,omitempty"`
	Usage       *targets.Usage     `json:"usage,omitempty"`
	Timing      map[string]float64 `json:"timing,omitempty"`
	ID          string             `json:"id,omitempty"`
	Done        bool               `json:"done,omitempty"`
	Err         string             `json:"err,omitempty"`
	DecodeError string             `json:"decode_error,omitempty"`
}

// Transcript is what a whole recorded stream decodes to, frame by frame.
type Transcript struct {
	Events []Event `json:"events"`
	// End is how the frame reader stopped: "eof" or its error.
	End string `json:"end"`
}

// Decode runs a recorded body through p's frame reader and a decoder (with
// targets.DecodeFrame), as the client does, but keeps going after a decode error so the transcript shows
// every frame.
func Decode(p targets.Protocol, body []byte) Transcript {
	fr := targets.NewFrameReader(p.Framing(), bytes.NewReader(body), 0)
	dec := p.NewDecoder()
	var tr Transcript
	var f targets.Frame
	for {
		err := fr.Next(&f)
		if errors.Is(err, io.EOF) {
			tr.End = "eof"
			return tr
		}
		if err != nil {
			tr.End = err.Error()
			return tr
		}
		var ev targets.Event
		var g Event
		err = targets.DecodeFrame(dec, &f, &ev)
		if err == nil && f.Bare && ev.Err == "" {
			continue // a bare line that is not an error: the client skips it
		}
		if err != nil {
			g.DecodeError = err.Error()
		} else {
			g = Event{Content: ev.Content, Reasoning: ev.Reasoning, ToolArgs: ev.ToolArgs,
				Tokens: ev.Tokens, Usage: ev.Usage, ID: ev.ID, Done: ev.Done, Err: ev.Err}
			if ev.Timing != nil {
				g.Timing = TimingMap(ev.Timing)
			}
		}
		tr.Events = append(tr.Events, g)
	}
}

// GoldenFiles returns the files the patterns match, in order, failing t
// when there are none.
func GoldenFiles(t testing.TB, patterns ...string) []string {
	t.Helper()
	var files []string
	for _, pattern := range patterns {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatalf("golden streams %s: %v", pattern, err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no golden streams for %s", strings.Join(patterns, ", "))
	}
	return files
}

// SeedFile is a recorded stream as a seed file of a fuzz test taking one
// []byte, in Go's corpus encoding.
func SeedFile(stream []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", stream)
}

// seedPath is where the seed file for the golden stream name goes.
func seedPath(dir, name string) string {
	return filepath.Join(dir, "fuzz", "FuzzDecode", name)
}

// writeFiles writes the golden file and, when seed is set, the fuzz seed.
func writeFiles(t *testing.T, golden string, js []byte, seed string, stream []byte) {
	t.Helper()
	if err := os.WriteFile(golden, js, 0o644); err != nil {
		t.Fatal(err)
	}
	if seed == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(seed), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seed, SeedFile(stream), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Golden decodes every file pattern matches (testdata/*.sse, say) with
// Decode and compares the indented JSON of the transcript with
// NAME.golden.json beside it, NAME being the file's name without its
// extension. With update it first rewrites the golden file and the fuzz seed
// testdata/fuzz/FuzzDecode/NAME from the stream.
func Golden(t *testing.T, p targets.Protocol, pattern string, update bool) {
	t.Helper()
	for _, file := range GoldenFiles(t, pattern) {
		name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := marshal(t, Decode(p, body))
			dir := filepath.Dir(file)
			golden := filepath.Join(dir, name+".golden.json")
			if update {
				writeFiles(t, golden, got, seedPath(dir, name), body)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoded %s differs from %s:\n got: %s\nwant: %s", file, golden, got, want)
			}
		})
	}
}
