package targets_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
)

// The seed corpora under testdata/fuzz are built from the OpenAI golden
// transcripts (targets/openai/testdata/*.sse), the in-stream error forms
// (testdata/streamerr/*.sse) and the table cases; rebuild
// them with `go test ./targets/ -run TestFuzzCorpus -gencorpus`.
var genCorpus = flag.Bool("gencorpus", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// stepReader returns at most step bytes per Read, cycling the size through
// 1..step, so one fuzz input is read with many different splits.
type stepReader struct {
	b    []byte
	step int
	n    int
}

func (r *stepReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	r.n = r.n%r.step + 1
	k := min(r.n, len(p), len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

func fuzzBody(in []byte, step uint8) io.Reader {
	if step == 0 {
		return bytes.NewReader(in)
	}
	return &stepReader{b: in, step: int(step)}
}

// fuzzMax keeps the fuzzer's bound small, so it is hit often; 0 means the
// default.
func fuzzMax(m uint16) int {
	if m > 4096 {
		return int(m%4096) + 1
	}
	return int(m)
}

// refResult is what a reference parser says a body holds.
type refResult struct {
	frames []frame
	err    error // io.EOF, targets.ErrTruncated or targets.ErrFrameTooLarge
}

// refLines splits in by the WHATWG rules (a line ends at CRLF, LF or CR)
// and returns the complete lines and the unterminated rest.
func refLines(in []byte) (lines [][]byte, rest []byte) {
	for len(in) > 0 {
		i := bytes.IndexAny(in, "\r\n")
		if i < 0 {
			return lines, in
		}
		lines = append(lines, in[:i])
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			i++
		}
		in = in[i+1:]
	}
	return lines, nil
}

// refSSE is a plain reading of the WHATWG event-stream interpretation
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
// with the choices SSEReader documents: the bound applies to every line and
// to the joined data; the event type and id belong to one event (both reset
// at every blank line); a pending event is dispatched at a clean end of the
// body; a body that stops inside a line is ErrTruncated; error field lines
// make an error event of their values; an event named error is dispatched
// even without data; a line starting with '{' ends the pending event and is
// a bare frame.
func refSSE(in []byte, max int) refResult {
	if max <= 0 {
		max = targets.DefaultMaxFrameBytes
	}
	lines, rest := refLines(in)
	var res refResult
	var data, errData, event, id []byte
	hasData, hasErr := false, false
	dispatch := func() {
		switch {
		case hasErr:
			res.frames = append(res.frames, frame{Event: "error", Data: string(errData), ID: string(id)})
		case hasData || string(event) == "error":
			res.frames = append(res.frames, frame{Event: string(event), Data: string(data), ID: string(id)})
		}
		data, errData, event, id, hasData, hasErr = nil, nil, nil, nil, false, false
	}
	add := func(buf *[]byte, has *bool, value []byte) bool {
		if *has {
			*buf = append(*buf, '\n')
		}
		*buf = append(*buf, value...)
		*has = true
		return len(*buf) <= max
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if len(line) > max {
			res.err = targets.ErrFrameTooLarge
			return res
		}
		if i == 0 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(line) == 0 {
			dispatch()
			continue
		}
		switch line[0] {
		case ':':
			continue
		case '{':
			// A bare JSON block: this line and, while its brackets are
			// open, the lines after it up to a blank line (consumed) or
			// an SSE field (read next).
			block := append([]byte(nil), line...)
			inStr, esc := false, false
			depth := refNesting(line, 0, &inStr, &esc)
			ended := false // by a blank line or a field
			for depth > 0 && i+1 < len(lines) {
				next := lines[i+1]
				if len(next) > 0 && refIsField(next) {
					ended = true
					break
				}
				i++
				if len(next) == 0 {
					ended = true
					break
				}
				if len(next) > max || len(block)+1+len(next) > max {
					res.err = targets.ErrFrameTooLarge
					return res
				}
				block = append(append(block, '\n'), next...)
				depth = refNesting(next, depth, &inStr, &esc)
			}
			if depth > 0 && !ended && len(rest) > 0 {
				if len(rest) > max || len(block)+1+len(rest) > max {
					res.err = targets.ErrFrameTooLarge
					return res
				}
				block = append(append(block, '\n'), rest...)
				rest = nil
			}
			dispatch()
			res.frames = append(res.frames, frame{Data: string(block), Bare: true})
			continue
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(name) {
		case "data":
			if !add(&data, &hasData, value) {
				res.err = targets.ErrFrameTooLarge
				return res
			}
		case "error":
			if !add(&errData, &hasErr, value) {
				res.err = targets.ErrFrameTooLarge
				return res
			}
		case "event":
			event = append([]byte(nil), value...)
		case "id":
			id = append([]byte(nil), value...)
		}
	}
	if len(rest) > 0 {
		if len(rest) > max {
			res.err = targets.ErrFrameTooLarge
		} else {
			res.err = targets.ErrTruncated
		}
		return res
	}
	dispatch()
	res.err = io.EOF
	return res
}

// refNesting returns depth after the brackets of line, outside strings.
func refNesting(line []byte, depth int, inStr, esc *bool) int {
	for _, c := range line {
		switch {
		case *esc:
			*esc = false
		case *inStr && c == '\\':
			*esc = true
		case *inStr:
			*inStr = c != '"'
		case c == '"':
			*inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return depth
}

// refIsField reports whether line is an SSE comment or a field the reader
// knows, which ends a bare JSON block.
func refIsField(line []byte) bool {
	for _, p := range []string{":", "data:", "event:", "id:", "retry:", "error:"} {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}

// refNDJSON: one frame per line that is not blank, the last line with or
// without its newline; every line within the bound.
func refNDJSON(in []byte, max int) refResult {
	if max <= 0 {
		max = targets.DefaultMaxFrameBytes
	}
	lines, rest := refLines(in)
	if len(rest) > 0 {
		lines = append(lines, rest)
	}
	var res refResult
	for _, line := range lines {
		if len(line) > max {
			res.err = targets.ErrFrameTooLarge
			return res
		}
		if len(bytes.TrimSpace(line)) > 0 {
			res.frames = append(res.frames, frame{Data: string(line)})
		}
	}
	res.err = io.EOF
	return res
}

// fuzzRead reads every frame of fr, checking the properties that hold for
// any input: no endless loop, no frame over the bound.
func fuzzRead(t *testing.T, fr targets.FrameReader, in []byte, max int) ([]frame, error) {
	t.Helper()
	bound := max
	if bound <= 0 {
		bound = targets.DefaultMaxFrameBytes
	}
	var got []frame
	var f targets.Frame
	// Every frame takes at least one byte of the body.
	for calls := 0; calls <= len(in)+1; calls++ {
		err := fr.Next(&f)
		if err != nil {
			return got, err
		}
		if len(f.Data) > bound {
			t.Fatalf("frame of %d bytes, bound %d", len(f.Data), bound)
		}
		got = append(got, frame{Event: string(f.Event), Data: string(f.Data), ID: string(f.ID), Bare: f.Bare})
	}
	t.Fatalf("Next returned %d frames from %d bytes without stopping", len(got), len(in))
	return nil, nil
}

func sameResult(t *testing.T, got []frame, err error, want refResult) {
	t.Helper()
	if !errors.Is(err, want.err) {
		t.Fatalf("error %v, reference says %v (frames %q)", err, want.err, got)
	}
	if len(got) != len(want.frames) {
		t.Fatalf("%d frames %q, reference has %d %q", len(got), got, len(want.frames), want.frames)
	}
	for i := range got {
		if got[i] != want.frames[i] {
			t.Fatalf("frame %d = %+q, reference %+q", i, got[i], want.frames[i])
		}
	}
}

func FuzzSSEReader(f *testing.F) {
	for _, tc := range sseCases {
		f.Add([]byte(tc.in), uint16(tc.max), uint8(0))
		f.Add([]byte(tc.in), uint16(tc.max), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, m uint16, step uint8) {
		max := fuzzMax(m)
		got, err := fuzzRead(t, targets.NewSSEReader(fuzzBody(in, step), max), in, max)
		sameResult(t, got, err, refSSE(in, max))
	})
}

func FuzzNDJSONReader(f *testing.F) {
	for _, tc := range ndjsonCases {
		f.Add([]byte(tc.in), uint16(tc.max), uint8(0))
		f.Add([]byte(tc.in), uint16(tc.max), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, m uint16, step uint8) {
		max := fuzzMax(m)
		got, err := fuzzRead(t, targets.NewNDJSONReader(fuzzBody(in, step), max), in, max)
		for _, g := range got {
			if strings.ContainsAny(g.Data, "\r\n") || strings.TrimSpace(g.Data) == "" {
				t.Fatalf("frame %q: want one non-blank line", g.Data)
			}
		}
		sameResult(t, got, err, refNDJSON(in, max))
	})
}

// TestFuzzCorpus rewrites the checked-in seed corpora with -gencorpus, and
// otherwise checks that they exist.
func TestFuzzCorpus(t *testing.T) {
	transcripts, err := filepath.Glob(filepath.Join("openai", "testdata", "*.sse"))
	if err != nil || len(transcripts) == 0 {
		t.Fatalf("no transcripts in openai/testdata: %v", err)
	}
	// The in-stream error forms (error field lines, bare JSON lines).
	errForms, err := filepath.Glob(filepath.Join("testdata", "streamerr", "*.sse"))
	if err != nil || len(errForms) == 0 {
		t.Fatalf("no transcripts in testdata/streamerr: %v", err)
	}
	transcripts = append(transcripts, errForms...)
	for _, name := range []string{"FuzzSSEReader", "FuzzNDJSONReader"} {
		dir := filepath.Join("testdata", "fuzz", name)
		if !*genCorpus {
			if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) == 0 {
				t.Errorf("%s: no seed files (run with -gencorpus)", dir)
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range transcripts {
			body, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			base := strings.TrimSuffix(filepath.Base(p), ".sse")
			if filepath.Base(filepath.Dir(p)) == "streamerr" {
				base = "streamerr_" + base
			}
			if name == "FuzzNDJSONReader" {
				body = sseToNDJSON(body)
			}
			// Whole reads with the default bound, and one-byte reads with a
			// small bound that long chunks exceed.
			writeSeed(t, filepath.Join(dir, base), body, 0, 0)
			writeSeed(t, filepath.Join(dir, base+"-small"), body, 200, 1)
		}
	}
	// The fuzz targets of streamerr_test.go take one []byte.
	oneArg := map[string][][2]string{} // target: (name, input)
	for _, p := range errForms {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		oneArg["FuzzClientStream"] = append(oneArg["FuzzClientStream"], [2]string{strings.TrimSuffix(filepath.Base(p), ".sse"), string(body)})
	}
	for i, tc := range errorMessageCases {
		oneArg["FuzzErrorMessage"] = append(oneArg["FuzzErrorMessage"], [2]string{fmt.Sprintf("case%02d", i), tc.data})
	}
	for name, seeds := range oneArg {
		dir := filepath.Join("testdata", "fuzz", name)
		if !*genCorpus {
			if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) < len(seeds) {
				t.Errorf("%s: %d seed files, want %d (run with -gencorpus)", dir, len(files), len(seeds))
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, sd := range seeds {
			s := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", sd[1])
			if err := os.WriteFile(filepath.Join(dir, sd[0]), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// sseToNDJSON keeps the data of each data line, one per line: the shape of
// an NDJSON stream (Ollama, TGI's native API) with the same payloads.
func sseToNDJSON(body []byte) []byte {
	var out []byte
	lines, _ := refLines(body)
	for _, l := range lines {
		if v, ok := bytes.CutPrefix(l, []byte("data:")); ok {
			out = append(out, bytes.TrimPrefix(v, []byte(" "))...)
			out = append(out, '\n')
		}
	}
	return out
}

func writeSeed(t *testing.T, path string, body []byte, m uint16, step uint8) {
	t.Helper()
	s := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint16(%d)\nuint8(%d)\n", body, m, step)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
