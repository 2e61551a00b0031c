package targets_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/streamgauge/streamgauge/targets"
)

// frame is a copy of a targets.Frame, whose slices are only valid until the
// next call to Next.
type frame struct {
	Event, Data, ID string
	Bare            bool
}

func (f frame) String() string {
	return fmt.Sprintf("{Event:%q Data:%q ID:%q Bare:%v}", f.Event, f.Data, f.ID, f.Bare)
}

// readerVariants wrap a body so every case is also read one byte at a time
// (a CRLF split across reads, a line across many reads) and in halves.
var readerVariants = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"onebyte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"dataerr", iotest.DataErrReader},
}

// readAll reads frames until an error and returns them with that error.
func readAll(t *testing.T, fr targets.FrameReader) ([]frame, error) {
	t.Helper()
	var got []frame
	var f targets.Frame
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("Next never stopped")
		}
		err := fr.Next(&f)
		if err != nil {
			return got, err
		}
		got = append(got, frame{Event: string(f.Event), Data: string(f.Data), ID: string(f.ID), Bare: f.Bare})
	}
}

type frameCase struct {
	name string
	in   string
	max  int // 0: the default
	want []frame
	err  error // what Next returns after the frames
}

func data(s ...string) []frame {
	out := make([]frame, len(s))
	for i, d := range s {
		out[i] = frame{Data: d}
	}
	return out
}

var sseCases = []frameCase{
	{name: "empty body", in: "", err: io.EOF},
	{name: "LF", in: "data: a\n\ndata: b\n\n", want: data("a", "b"), err: io.EOF},
	{name: "CRLF", in: "data: a\r\n\r\ndata: b\r\n\r\n", want: data("a", "b"), err: io.EOF},
	{name: "CR", in: "data: a\r\rdata: b\r\r", want: data("a", "b"), err: io.EOF},
	{name: "mixed line ends", in: "data: a\r\n\rdata: b\n\r\ndata: c\r\n", want: data("a", "b", "c"), err: io.EOF},
	{name: "CR then LF is one line end", in: "data: a\r\ndata: b\r\n\r\n", want: data("a\nb"), err: io.EOF},
	{name: "LF CR is two line ends", in: "data: a\n\rdata: b\n\n", want: data("a", "b"), err: io.EOF},
	{name: "comments and keep-alives", in: ": keep-alive\n\n:\n\ndata: a\n: inside an event\ndata: b\n\n: ping\n\n", want: data("a\nb"), err: io.EOF},
	{name: "data without the space", in: "data:a\n\n", want: data("a"), err: io.EOF},
	{name: "only one space is dropped", in: "data:  a \n\n", want: data(" a "), err: io.EOF},
	{name: "colon in the value", in: "data: {\"a\": \"b:c\"}\n\n", want: data(`{"a": "b:c"}`), err: io.EOF},
	{name: "multi-line data", in: "data: a\ndata: b\ndata:\ndata: c\n\n", want: data("a\nb\n\nc"), err: io.EOF},
	{name: "event and id", in: "event: delta\nid: 7\ndata: x\n\ndata: y\n\n",
		want: []frame{{Event: "delta", ID: "7", Data: "x"}, {Data: "y"}}, err: io.EOF},
	{name: "last event and id field wins", in: "event: a\nevent: b\nid: 1\nid: 2\ndata: x\n\n",
		want: []frame{{Event: "b", ID: "2", Data: "x"}}, err: io.EOF},
	{name: "events with no data are skipped", in: "event: ping\n\nid: 3\n\nevent: x\nid: 4\n\ndata: a\n\n", want: data("a"), err: io.EOF},
	{name: "field without colon", in: "data\n\nevent\ndata: x\n\n", want: data("", "x"), err: io.EOF},
	{name: "unknown fields ignored", in: "retry: 1000\nfoo: bar\nData: no\ndata : no\nfoo\ndata: x\n\n", want: data("x"), err: io.EOF},
	{name: "empty data is a frame", in: "data:\n\ndata: \n\n", want: data("", ""), err: io.EOF},
	{name: "blank lines between events", in: "\n\n\ndata: a\n\n\n\ndata: b\n\n\n", want: data("a", "b"), err: io.EOF},
	{name: "final event without blank line", in: "data: a\n\ndata: b\n", want: data("a", "b"), err: io.EOF},
	{name: "final event ended by CR", in: "data: a\r", want: data("a"), err: io.EOF},
	{name: "final event ended by CRLF", in: "data: a\r\n", want: data("a"), err: io.EOF},
	{name: "cut mid-line", in: "data: a\n\ndata: {\"x\"", want: data("a"), err: targets.ErrTruncated},
	{name: "cut mid-line of a pending event", in: "data: a\ndata: b", err: targets.ErrTruncated},
	{name: "cut mid comment", in: "data: a\n\n: keep", want: data("a"), err: targets.ErrTruncated},
	{name: "only comments", in: ": a\n: b\n", err: io.EOF},
	{name: "leading BOM ignored", in: "\xEF\xBB\xBFdata: a\n\n", want: data("a"), err: io.EOF},
	{name: "second BOM is not", in: "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n", want: data("b"), err: io.EOF},
	{name: "BOM only on the first line", in: "data: a\n\n\xEF\xBB\xBFdata: b\n\n", want: data("a"), err: io.EOF},
	{name: "done marker", in: "data: {\"x\":1}\n\ndata: [DONE]\n\n", want: data(`{"x":1}`, "[DONE]"), err: io.EOF},
	{name: "line of exactly max", max: 16, in: "data: 0123456789\n\n", want: data("0123456789"), err: io.EOF},
	{name: "line of exactly max with CRLF", max: 16, in: "data: 0123456789\r\n\r\n", want: data("0123456789"), err: io.EOF},
	{name: "line over max", max: 16, in: "data: 0\n\ndata: 0123456789a\n\n", want: data("0"), err: targets.ErrFrameTooLarge},
	{name: "line over max with CR", max: 16, in: "data: 0123456789a\r\r", err: targets.ErrFrameTooLarge},
	{name: "comment over max", max: 16, in: ": 0123456789abcdef\n\ndata: a\n\n", err: targets.ErrFrameTooLarge},
	{name: "unterminated line over max", max: 16, in: "data: 0123456789abcdef", err: targets.ErrFrameTooLarge},
	{name: "frame of exactly max", max: 16, in: "data: 01234567\ndata: 0123456\n\n", want: data("01234567\n0123456"), err: io.EOF},
	{name: "frame over max from short lines", max: 16, in: "data: 01234567\ndata: 01234567\n\n", err: targets.ErrFrameTooLarge},
	{name: "tiny max", max: 1, in: "x\n\n:\n", err: io.EOF},
	// Errors as servers send them outside the standard's fields.
	{name: "error field line (older llama.cpp)", in: "data: a\n\nerror: {\"code\":500}\n\ndata: [DONE]\n\n",
		want: []frame{{Data: "a"}, {Event: "error", Data: `{"code":500}`}, {Data: "[DONE]"}}, err: io.EOF},
	{name: "error field at the end of the body", in: "error: boom\n", want: []frame{{Event: "error", Data: "boom"}}, err: io.EOF},
	{name: "error field wins over data and event", in: "event: x\nid: 1\ndata: a\nerror: e1\nerror: e2\n\n",
		want: []frame{{Event: "error", ID: "1", Data: "e1\ne2"}}, err: io.EOF},
	{name: "empty error field", in: "error\n\n", want: []frame{{Event: "error"}}, err: io.EOF},
	{name: "error event without data", in: "event: error\n\nevent: error\nid: 2\n", want: []frame{{Event: "error"}, {Event: "error", ID: "2"}}, err: io.EOF},
	{name: "other events without data stay skipped", in: "event: Error\n\nevent: errors\n\n", err: io.EOF},
	{name: "error field over max", max: 16, in: "error: 01234567\nerror: 01234567\n\n", err: targets.ErrFrameTooLarge},
	{name: "bare JSON line (Ollama's OpenAI layer)", in: "data: a\n\n{\"error\":{\"message\":\"m\"}}\n",
		want: []frame{{Data: "a"}, {Data: `{"error":{"message":"m"}}`, Bare: true}}, err: io.EOF},
	{name: "bare line ends the pending event", in: "event: e\ndata: a\n{\"x\":1}\ndata: b\n\n",
		want: []frame{{Event: "e", Data: "a"}, {Data: `{"x":1}`, Bare: true}, {Data: "b"}}, err: io.EOF},
	{name: "bare line after an event line drops it", in: "event: e\n{}\ndata: b\n\n",
		want: []frame{{Data: "{}", Bare: true}, {Data: "b"}}, err: io.EOF},
	{name: "bare line ends a pending error", in: "error: e\n{}\n",
		want: []frame{{Event: "error", Data: "e"}, {Data: "{}", Bare: true}}, err: io.EOF},
	{name: "bare line cut mid-line", in: "{\"error\":", err: targets.ErrTruncated},
	{name: "whole body is bare JSON", in: "{\"error\":\"x\"}", err: targets.ErrTruncated},
	{name: "pretty-printed bare JSON is one frame", in: "data: a\n\n{\n  \"error\": {\n    \"message\": \"m\"\n  }\n}\n",
		want: []frame{{Data: "a"}, {Data: "{\n  \"error\": {\n    \"message\": \"m\"\n  }\n}", Bare: true}}, err: io.EOF},
	{name: "pretty bare JSON ends the pending event", in: "data: a\n{\n\"x\": [1,\n2]\n}\ndata: b\n\n",
		want: []frame{{Data: "a"}, {Data: "{\n\"x\": [1,\n2]\n}", Bare: true}, {Data: "b"}}, err: io.EOF},
	{name: "brackets in strings do not count", in: "{\n\"e\": \"} \\\" {\"\n}\ndata: b\n\n",
		want: []frame{{Data: "{\n\"e\": \"} \\\" {\"\n}", Bare: true}, {Data: "b"}}, err: io.EOF},
	{name: "open bare JSON ended by a field line", in: "{\n\"e\": 1\ndata: b\n\n",
		want: []frame{{Data: "{\n\"e\": 1", Bare: true}, {Data: "b"}}, err: io.EOF},
	{name: "open bare JSON ended by a blank line", in: "{\n\"e\": 1\n\ndata: b\n\n",
		want: []frame{{Data: "{\n\"e\": 1", Bare: true}, {Data: "b"}}, err: io.EOF},
	{name: "open bare JSON cut at the end", in: "{\n\"error\": \"cut",
		want: []frame{{Data: "{\n\"error\": \"cut", Bare: true}}, err: io.EOF},
	{name: "pretty bare JSON over the bound", in: "{\n\"error\": \"0123456789\"\n}\n", max: 16, err: targets.ErrFrameTooLarge},
	{name: "other unknown fields stay ignored", in: "warning: w\n[1]\n\"s\"\nexception: x\n\n", err: io.EOF},
}

func TestSSEReader(t *testing.T) {
	for _, tc := range sseCases {
		for _, v := range readerVariants {
			t.Run(tc.name+"/"+v.name, func(t *testing.T) {
				fr := targets.NewSSEReader(v.wrap(strings.NewReader(tc.in)), tc.max)
				got, err := readAll(t, fr)
				checkFrames(t, tc, got, err)
				if errors.Is(err, io.EOF) {
					var f targets.Frame
					if err := fr.Next(&f); !errors.Is(err, io.EOF) {
						t.Errorf("Next after io.EOF = %v, want io.EOF again", err)
					}
				}
			})
		}
	}
}

func checkFrames(t *testing.T, tc frameCase, got []frame, err error) {
	t.Helper()
	if !errors.Is(err, tc.err) {
		t.Errorf("final error = %v, want %v", err, tc.err)
	}
	if len(got) != len(tc.want) {
		t.Fatalf("got %d frames %q, want %d %q", len(got), got, len(tc.want), tc.want)
	}
	for i := range got {
		if got[i] != tc.want[i] {
			t.Errorf("frame %d = %+q, want %+q", i, got[i], tc.want[i])
		}
	}
}

// chunkReader returns its chunks one per Read, so a test decides exactly
// where reads split the body.
type chunkReader struct{ chunks []string }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if c.chunks[0] == "" {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func TestSSEReaderCRLFSplitAcrossReads(t *testing.T) {
	// A CR ends a line at once; the LF that comes in the next read belongs
	// to it and must not read as a blank line (which would end the event
	// after "a" and make two frames).
	rd := &chunkReader{chunks: []string{"data: a\r", "\ndata: b\r", "\n\r", "\ndata: c\r", "\n", "\r", "\n"}}
	got, err := readAll(t, targets.NewSSEReader(rd, 0))
	checkFrames(t, frameCase{want: data("a\nb", "c"), err: io.EOF}, got, err)
}

func TestSSEReaderTruncatedMessage(t *testing.T) {
	_, err := readAll(t, targets.NewSSEReader(strings.NewReader("data: {\"choices\":[{\"delta\""), 0))
	if !errors.Is(err, targets.ErrTruncated) {
		t.Fatalf("err = %v, want ErrTruncated", err)
	}
	if !strings.Contains(err.Error(), `data: {\"choices\"`) {
		t.Errorf("err = %q, want the last line quoted in it", err)
	}
}

var errBoom = errors.New("boom")

func TestFrameReadersReturnReadErrors(t *testing.T) {
	// A read error that is not the end of the body (a deadline, a reset)
	// must come back as itself, not as ErrTruncated, even mid-line: the
	// client classifies it (timeout, canceled) from the error.
	for _, tc := range []struct {
		name string
		new  func(io.Reader) targets.FrameReader
		in   string
		want int
	}{
		{"sse mid-line", func(r io.Reader) targets.FrameReader { return targets.NewSSEReader(r, 0) }, "data: a\n\ndata: b", 1},
		{"sse mid-event", func(r io.Reader) targets.FrameReader { return targets.NewSSEReader(r, 0) }, "data: a\n\ndata: b\n", 1},
		{"sse at boundary", func(r io.Reader) targets.FrameReader { return targets.NewSSEReader(r, 0) }, "data: a\n\n", 1},
		{"ndjson mid-line", func(r io.Reader) targets.FrameReader { return targets.NewNDJSONReader(r, 0) }, "{}\n{\"a\"", 1},
		{"ndjson at boundary", func(r io.Reader) targets.FrameReader { return targets.NewNDJSONReader(r, 0) }, "{}\n", 1},
	} {
		for _, v := range readerVariants[:3] {
			t.Run(tc.name+"/"+v.name, func(t *testing.T) {
				rd := io.MultiReader(strings.NewReader(tc.in), iotest.ErrReader(errBoom))
				got, err := readAll(t, tc.new(v.wrap(rd)))
				if !errors.Is(err, errBoom) {
					t.Errorf("err = %v, want %v", err, errBoom)
				}
				if len(got) != tc.want {
					t.Errorf("got %d frames %q, want %d", len(got), got, tc.want)
				}
			})
		}
	}
}

// emptyReader returns no data and no error, forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestFrameReadersNoProgress(t *testing.T) {
	var f targets.Frame
	if err := targets.NewSSEReader(emptyReader{}, 0).Next(&f); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("SSE: err = %v, want io.ErrNoProgress", err)
	}
	if err := targets.NewNDJSONReader(emptyReader{}, 0).Next(&f); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("NDJSON: err = %v, want io.ErrNoProgress", err)
	}
}

var ndjsonCases = []frameCase{
	{name: "empty body", in: "", err: io.EOF},
	{name: "LF", in: "{\"a\":1}\n{\"b\":2}\n", want: data(`{"a":1}`, `{"b":2}`), err: io.EOF},
	{name: "CRLF", in: "{\"a\":1}\r\n{\"b\":2}\r\n", want: data(`{"a":1}`, `{"b":2}`), err: io.EOF},
	{name: "blank lines skipped", in: "\n\n{}\n   \n\t\r\n{\"x\":1}\n\n", want: data("{}", `{"x":1}`), err: io.EOF},
	{name: "last line without newline", in: "{}\n{\"done\":true}", want: data("{}", `{"done":true}`), err: io.EOF},
	{name: "last line blank without newline", in: "{}\n  ", want: data("{}"), err: io.EOF},
	{name: "spaces kept inside a line", in: " {\"a\": 1} \n", want: data(` {"a": 1} `), err: io.EOF},
	{name: "line of exactly max", max: 8, in: "{\"a\":12}\n", want: data(`{"a":12}`), err: io.EOF},
	{name: "line of exactly max, CRLF", max: 8, in: "{\"a\":12}\r\n", want: data(`{"a":12}`), err: io.EOF},
	{name: "line over max", max: 8, in: "{}\n{\"a\":123}\n", want: data("{}"), err: targets.ErrFrameTooLarge},
	{name: "unterminated line over max", max: 8, in: "{\"a\":123}", err: targets.ErrFrameTooLarge},
	{name: "blank line over max", max: 4, in: "         \n{}\n", err: targets.ErrFrameTooLarge},
}

func TestNDJSONReader(t *testing.T) {
	for _, tc := range ndjsonCases {
		for _, v := range readerVariants {
			t.Run(tc.name+"/"+v.name, func(t *testing.T) {
				got, err := readAll(t, targets.NewNDJSONReader(v.wrap(strings.NewReader(tc.in)), tc.max))
				checkFrames(t, tc, got, err)
			})
		}
	}
}

func TestNewFrameReader(t *testing.T) {
	in := "data: a\n\n"
	got, _ := readAll(t, targets.NewFrameReader(targets.SSE, strings.NewReader(in), 0))
	if len(got) != 1 || got[0].Data != "a" {
		t.Errorf("SSE framing: got %q", got)
	}
	got, _ = readAll(t, targets.NewFrameReader(targets.NDJSON, strings.NewReader(in), 0))
	if len(got) != 1 || got[0].Data != "data: a" {
		t.Errorf("NDJSON framing: got %q", got)
	}
}

// repeatReader repeats its pattern forever.
type repeatReader struct {
	pattern []byte
	off     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.pattern[r.off:])
		n += k
		r.off = (r.off + k) % len(r.pattern)
	}
	return n, nil
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestFrameReadersBoundMemory(t *testing.T) {
	// Endless bodies: the readers must stop at the bound with
	// ErrFrameTooLarge, having allocated a small multiple of it (the line
	// buffer grows by doubling up to max+2, the SSE data buffer by append up
	// to max), not memory in proportion to the body.
	const max = 256 << 10
	const limit = 8 * max
	for _, tc := range []struct {
		name    string
		new     func(io.Reader) targets.FrameReader
		pattern string
	}{
		{"sse endless line", func(r io.Reader) targets.FrameReader { return targets.NewSSEReader(r, max) }, "x"},
		{"sse endless event", func(r io.Reader) targets.FrameReader { return targets.NewSSEReader(r, max) }, "data: " + strings.Repeat("y", 1000) + "\n"},
		{"sse endless comment", func(r io.Reader) targets.FrameReader { return targets.NewSSEReader(r, max) }, ":" + strings.Repeat("z", 100)},
		{"ndjson endless line", func(r io.Reader) targets.FrameReader { return targets.NewNDJSONReader(r, max) }, "{\"a\":1,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocated(func() {
				var f targets.Frame
				err = tc.new(&repeatReader{pattern: []byte(tc.pattern)}).Next(&f)
			})
			if !errors.Is(err, targets.ErrFrameTooLarge) {
				t.Fatalf("err = %v, want ErrFrameTooLarge", err)
			}
			if n > limit {
				t.Errorf("allocated %d bytes for a bound of %d, want at most %d", n, max, limit)
			}
		})
	}
}

func TestSSEReaderDataWithinBound(t *testing.T) {
	// Many events, each just under the bound, read through one reader: the
	// buffers are reused, not grown per event.
	const max = 4096
	line := "data: " + strings.Repeat("a", max-6) + "\n\n"
	body := strings.Repeat(line, 64)
	fr := targets.NewSSEReader(strings.NewReader(body), max)
	var f targets.Frame
	count := 0
	n := allocated(func() {
		for fr.Next(&f) == nil {
			if len(f.Data) > max {
				t.Fatalf("frame of %d bytes, bound %d", len(f.Data), max)
			}
			count++
		}
	})
	if count != 64 {
		t.Errorf("read %d frames, want 64", count)
	}
	if n > 8*max {
		t.Errorf("allocated %d bytes for 64 frames of %d, want buffers reused", n, max)
	}
	if !bytes.Equal(f.Data, []byte(strings.Repeat("a", max-6))) {
		t.Errorf("last frame data wrong (%d bytes)", len(f.Data))
	}
}

// TestSSEReaderUnrecognised: the reader keeps the start of the last line
// whose field the standard does not define, for error messages; known
// fields, comments and retry are not such lines.
func TestSSEReaderUnrecognised(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"data: a\n\n", ""},
		{"retry: 10\n: comment\nevent: e\nid: 1\ndata: a\n\n", ""},
		{"<html>\n<h1>502 Bad Gateway</h1>\ndata: a\n\n", "<h1>502 Bad Gateway</h1>"},
		{"warning: slow\n\n", "warning: slow"},
		{strings.Repeat("x", 300) + "\n", strings.Repeat("x", 120)},
	} {
		fr := targets.NewSSEReader(strings.NewReader(tc.in), 0)
		var f targets.Frame
		for fr.Next(&f) == nil {
		}
		if got := fr.Unrecognised(); got != tc.want {
			t.Errorf("Unrecognised() after %q = %q, want %q", tc.in, got, tc.want)
		}
	}
}
