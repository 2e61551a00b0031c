package targetstest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/targets"
)

// EqualEvent reports whether a and b are the same event, comparing usage by
// value.
func EqualEvent(a, b targets.Event) bool {
	if (a.Usage == nil) != (b.Usage == nil) || (a.Usage != nil && *a.Usage != *b.Usage) {
		return false
	}
	if (a.Timing == nil) != (b.Timing == nil) || (a.Timing != nil && *a.Timing != *b.Timing) {
		return false
	}
	a.Usage, b.Usage, a.Timing, b.Timing = nil, nil, nil, nil
	return a == b
}

// DecodeCase is one frame for CheckDecodes: its data, and whether decoding
// it fails or else what event it gives.
type DecodeCase struct {
	Name, Data string
	WantErr    bool
	Want       targets.Event
}

// CheckDecodes decodes each case's data as one frame with a fresh decoder
// of p, in a subtest named after the case.
func CheckDecodes(t *testing.T, p targets.Protocol, cases []DecodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var ev targets.Event
			err := p.NewDecoder().Decode(&targets.Frame{Data: []byte(tc.Data)}, &ev)
			if (err != nil) != tc.WantErr {
				t.Fatalf("Decode(%s) error = %v, want error %v", tc.Data, err, tc.WantErr)
			}
			if err == nil && !EqualEvent(ev, tc.Want) {
				t.Errorf("Decode(%s) = %+v, want %+v", tc.Data, ev, tc.Want)
			}
		})
	}
}

// CheckEvent fails t unless ev, which a decoder returned without error, is
// sane: no negative token count, tokens only on token-bearing events, and an
// error event that carries nothing more.
func CheckEvent(t *testing.T, ev *targets.Event) {
	t.Helper()
	if ev.Tokens < 0 || (ev.Tokens > 0 && !ev.TokenBearing()) {
		t.Fatalf("tokens %d on %+v", ev.Tokens, ev)
	}
	if ev.Err != "" && (ev.TokenBearing() || ev.Done || ev.Usage != nil || ev.Timing != nil || ev.ID != "") {
		t.Fatalf("error event carries more: %+v", ev)
	}
}

// DecodeAny is a fuzz body: it feeds arbitrary bytes to p's decoder, as one
// frame and as a whole stream through the frame reader, and checks every
// event decoded without error with CheckEvent.
func DecodeAny(t *testing.T, p targets.Protocol, data []byte) {
	var ev targets.Event
	if err := p.NewDecoder().Decode(&targets.Frame{Data: data}, &ev); err == nil {
		CheckEvent(t, &ev)
	}
	fr := targets.NewFrameReader(p.Framing(), bytes.NewReader(data), 1<<16)
	dec := p.NewDecoder()
	var fm targets.Frame
	for fr.Next(&fm) == nil {
		ev = targets.Event{}
		if err := targets.DecodeFrame(dec, &fm, &ev); err == nil {
			CheckEvent(t, &ev)
		}
	}
}

// DecodeAnyStream is a fuzz body for JSON protocols: it reads an arbitrary
// stream with p's frame reader and decoder, through targets.DecodeFrame as
// the client does (going on after decode errors, to exercise more decoder
// state). Decode must never panic; it must reject every frame that is not
// valid JSON (error frames aside) with a non-empty error and leave the
// event empty when it does; and what it accepts must be sane: valid UTF-8
// text, no negative usage, a message on every "error" event and on every
// error object, and nothing else on an event with an error. check, when
// not nil, adds the protocol's own properties of an accepted event.
func DecodeAnyStream(t *testing.T, p targets.Protocol, stream []byte, check func(t *testing.T, f *targets.Frame, ev *targets.Event)) {
	fr := targets.NewFrameReader(p.Framing(), bytes.NewReader(stream), 1<<16)
	dec := p.NewDecoder()
	var fm targets.Frame
	for range 10000 {
		if fr.Next(&fm) != nil {
			return
		}
		var ev targets.Event
		err := targets.DecodeFrame(dec, &fm, &ev)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			if !reflect.DeepEqual(ev, targets.Event{}) {
				t.Fatalf("failed decode of %q filled the event: %+v", fm.Data, ev)
			}
			continue // the client stops here; going on exercises more state
		}
		// An error frame may hold plain text (DecodeFrame takes its
		// message); anything else accepted must be JSON.
		if ev.Err == "" && !fm.Bare && !json.Valid(fm.Data) {
			t.Fatalf("accepted invalid JSON %q", fm.Data)
		}
		for _, s := range []string{ev.Content, ev.Reasoning, ev.ToolArgs, ev.Err} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q from %q", s, fm.Data)
			}
		}
		if u := ev.Usage; u != nil && (u.PromptTokens < 0 || u.CompletionTokens < 0 || u.ReasoningTokens < 0 || u.CachedTokens < 0) {
			t.Fatalf("negative usage %+v from %q", *u, fm.Data)
		}
		if string(fm.Event) == "error" && ev.Err == "" {
			t.Fatalf("error event %q decoded without an error", fm.Data)
		}
		if fm.Bare && targets.IsErrorObject(fm.Data) && ev.Err == "" {
			t.Fatalf("bare error object %q decoded without an error", fm.Data)
		}
		if tm := ev.Timing; tm != nil && (tm.QueueMS < 0 || tm.PrefillMS < 0 || tm.DecodeMS < 0 || tm.LoadMS < 0) {
			t.Fatalf("negative timing %+v from %q", *tm, fm.Data)
		}
		if check != nil {
			check(t, &fm, &ev)
		}
	}
}

// FrameCase is one frame for CheckFrames: its event name and data, and the
// event it decodes to or else a substring of its decode error.
type FrameCase struct {
	Name, Event, Data string
	Want              targets.Event
	WantErr           string // substring of the decode error
}

// CheckFrames decodes each case's frame with a fresh decoder of p, in a
// subtest named after the case. A frame that fails to decode must leave the
// event empty.
func CheckFrames(t *testing.T, p targets.Protocol, cases []FrameCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			dec := p.NewDecoder()
			var ev targets.Event
			err := dec.Decode(&targets.Frame{Event: []byte(tt.Event), Data: []byte(tt.Data)}, &ev)
			if tt.WantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.WantErr) {
					t.Fatalf("Decode error = %v, want one containing %q", err, tt.WantErr)
				}
				if !reflect.DeepEqual(ev, targets.Event{}) {
					t.Errorf("a frame that fails to decode filled the event: %+v", ev)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(ev, tt.Want) {
				t.Errorf("event = %+v, want %+v", ev, tt.Want)
			}
		})
	}
}
