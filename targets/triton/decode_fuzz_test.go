package triton_test

import (
	"bytes"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
)

// FuzzDecode feeds arbitrary bytes to the decoder, as one frame and as a
// whole stream through the frame reader. The seed corpus in
// testdata/fuzz/FuzzDecode holds the golden transcripts (go test -update
// rewrites it).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev targets.Event
		if err := proto.NewDecoder().Decode(&targets.Frame{Data: data}, &ev); err == nil {
			checkEvent(t, &ev)
		}
		fr := targets.NewFrameReader(proto.Framing(), bytes.NewReader(data), 1<<16)
		dec := proto.NewDecoder()
		var fm targets.Frame
		for fr.Next(&fm) == nil {
			ev = targets.Event{}
			if err := dec.Decode(&fm, &ev); err == nil {
				checkEvent(t, &ev)
			}
		}
	})
}

// checkEvent holds for every event a decoder returns without error.
func checkEvent(t *testing.T, ev *targets.Event) {
	t.Helper()
	if ev.Tokens < 0 || (ev.Tokens > 0 && !ev.TokenBearing()) {
		t.Fatalf("tokens %d on %+v", ev.Tokens, ev)
	}
	if ev.Err != "" && (ev.TokenBearing() || ev.Done || ev.Usage != nil) {
		t.Fatalf("error event carries more: %+v", ev)
	}
}
