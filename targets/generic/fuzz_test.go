package generic_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/generic"
)

// fuzzSpecs are the specs FuzzDecode picks from: testdata's, and inline ones
// for the forms they do not cover.
func fuzzSpecs(t testing.TB) []*generic.Protocol {
	var ps []*generic.Protocol
	for _, f := range specFiles(t) {
		ps = append(ps, mustNew(t, f))
	}
	for _, s := range []generic.Spec{
		{Path: "/g", Request: `{}`, Framing: "sse", Text: "0", Done: "eof", Error: "e.0"},
		{Path: "/g", Request: `{}`, Framing: "ndjson", Text: "t", Reasoning: "r", Done: "n!=null",
			Usage: generic.UsageSpec{Prompt: "u.0", Completion: "u.1", Reasoning: "u.2"}},
	} {
		p, err := generic.New(s)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// decodeAll decodes a stream as the client does (to its end, ignoring decode
// errors so every frame is tried) and returns its events and errors.
func decodeAll(t *testing.T, p *generic.Protocol, stream []byte) ([]targets.Event, []string) {
	fr := targets.NewFrameReader(p.Framing(), bytes.NewReader(stream), 1<<16)
	dec := p.NewDecoder()
	var evs []targets.Event
	var errs []string
	var f targets.Frame
	for range 10000 {
		if fr.Next(&f) != nil {
			break
		}
		var ev targets.Event
		if err := dec.Decode(&f, &ev); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			if !reflect.DeepEqual(ev, targets.Event{}) {
				t.Fatalf("failed decode of %q filled the event: %+v", f.Data, ev)
			}
			if strings.HasPrefix(err.Error(), "invalid JSON") && fastjson.ValidateBytes(f.Data) == nil {
				t.Fatalf("refused valid JSON %q: %v", f.Data, err)
			}
			errs = append(errs, err.Error())
			continue
		}
		if ev.Usage != nil {
			u := *ev.Usage
			ev.Usage = &u
			if u.PromptTokens < 0 || u.CompletionTokens < 0 || u.ReasoningTokens < 0 {
				t.Fatalf("negative usage %+v from %q", u, f.Data)
			}
		}
		if ev.Tokens < 0 || (ev.Tokens > 0 && !ev.TokenBearing()) {
			t.Fatalf("tokens %d in %+v from %q", ev.Tokens, ev, f.Data)
		}
		if ev.Err != "" && (ev.Done || ev.TokenBearing() || ev.Usage != nil) {
			t.Fatalf("error event with more in it: %+v from %q", ev, f.Data)
		}
		evs = append(evs, ev)
	}
	return evs, errs
}

// FuzzDecode feeds arbitrary streams through each spec's frame reader and
// decoder, seeded with the transcripts in testdata (testdata/fuzz/FuzzDecode).
// The properties: Decode never panics; a frame it refuses gets a message and
// leaves the event empty, and valid JSON is never refused as invalid (the
// parser is lenient the other way: it takes control characters in strings,
// as the openai decoder does); what it accepts is sane (no negative counts,
// tokens only on token-bearing frames, an error event holds nothing else);
// and decoding is deterministic.
func FuzzDecode(f *testing.F) {
	specs := fuzzSpecs(f)
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"\\ud800\"}}],\"usage\":{\"completion_tokens\":-1}}\n\n"), uint8(0))
	f.Add([]byte("{\"n\":null,\"t\":\"x\",\"u\":[1,2,3]}\n{\"t\":7}\n"), uint8(5))
	f.Fuzz(func(t *testing.T, stream []byte, which uint8) {
		p := specs[int(which)%len(specs)]
		evs, errs := decodeAll(t, p, stream)
		evs2, errs2 := decodeAll(t, p, stream)
		if !reflect.DeepEqual(evs, evs2) || !reflect.DeepEqual(errs, errs2) {
			t.Fatal("decoding the same stream twice differs")
		}
	})
}

// FuzzSpec feeds arbitrary specs to New and NewServer, seeded with
// testdata's specs (testdata/fuzz/FuzzSpec). The properties: neither panics
// nor hangs; a refusal names the field on every line; an accepted spec
// builds valid JSON bodies and decodes frames without panicking; and a spec
// the simulator accepts round-trips: what its writer writes, its decoder
// reads back whole (text, usage, end, errors).
func FuzzSpec(f *testing.F) {
	for _, file := range specFiles(f) {
		s := loadSpec(f, file)
		f.Add(s.Path, s.Auth, s.Request, s.Framing, s.Text, s.Reasoning, s.Done, s.Usage.Completion, s.Error)
	}
	f.Fuzz(func(t *testing.T, path, auth, request, framing, text, reasoning, done, completion, errPath string) {
		spec := generic.Spec{Path: path, Auth: auth, Request: request, Framing: framing, Text: text,
			Reasoning: reasoning, Done: done, Usage: generic.UsageSpec{Completion: completion}, Error: errPath}
		p, err := generic.New(spec)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "generic.") {
					t.Fatalf("error line does not name a field: %q", line)
				}
			}
			return
		}
		for _, r := range []*targets.Request{chatRequest, {Prompt: "p"}} {
			if b, err := p.Body(r); err == nil && fastjson.ValidateBytes(b) != nil {
				t.Fatalf("Body built invalid JSON %q", b)
			}
		}
		p.Path(chatRequest)
		for _, frame := range []string{`{}`, `[]`, `null`, `{"a":{"b":[1,"x",null]}}`, `[DONE]`, `{`, `"s"`} {
			var ev targets.Event
			_ = p.NewDecoder().Decode(&targets.Frame{Data: []byte(frame)}, &ev)
		}
		srv, err := generic.NewServer(spec)
		if err != nil {
			return
		}
		tokens := []string{"a", `"b"`, "\n"}
		var buf bytes.Buffer
		sw := srv.NewStreamWriter(&buf, &targets.ServerRequest{}, "")
		_ = sw.Start()
		for _, tok := range tokens {
			_ = sw.Token(tok)
		}
		_ = sw.Finish(targets.Usage{PromptTokens: 4, CompletionTokens: 3})
		tr := decodeStream(t, p, bytes.NewReader(buf.Bytes()))
		if !tr.Complete || tr.Content != "a\"b\"\n" || tr.Frames != 3 || tr.Err != "" {
			t.Fatalf("round trip of %+v:\n%s\ndecoded %+v", spec, buf.Bytes(), tr)
		}
		if completion != "" && (tr.Usage == nil || tr.Usage.CompletionTokens != 3) {
			t.Fatalf("round trip of %+v lost the usage:\n%s\ndecoded %+v", spec, buf.Bytes(), tr)
		}
		if errPath != "" {
			buf.Reset()
			sw := srv.NewStreamWriter(&buf, &targets.ServerRequest{}, "")
			_ = sw.Token("a")
			_ = sw.Fail("boom")
			if tr := decodeStream(t, p, bytes.NewReader(buf.Bytes())); tr.Err != "boom" {
				t.Fatalf("round trip of %+v lost the error:\n%s\ndecoded %+v", spec, buf.Bytes(), tr)
			}
		}
		if body, err := p.Body(chatRequest); err == nil {
			_, _ = srv.ParseRequest(body)
		}
	})
}
