package loadgen_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// stallChat is openai-chat whose decoder stalls, ignoring every context,
// on a frame that carries stuckText: a decode that takes minutes.
type stallChat struct {
	openai.Chat
	s *stall
}

func (p stallChat) NewDecoder() targets.Decoder {
	return &stallDecoder{Decoder: p.Chat.NewDecoder(), s: p.s}
}

type stallDecoder struct {
	targets.Decoder
	s *stall
}

func (d *stallDecoder) Decode(f *targets.Frame, ev *targets.Event) error {
	if strings.Contains(string(f.Data), stuckText) {
		d.s.block()
	}
	return d.Decoder.Decode(f, ev)
}

// TestRunDrainRealClient ends a run whose last request is stuck, through
// the real client and a local server: waiting on a server that never
// finishes its stream (the cancel ends it, and it records itself), and
// decoding a frame (nothing interrupts it, and the run abandons it). Run
// returns in both, with the stuck request recorded as canceled.
func TestRunDrainRealClient(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serverHang bool
		abandoned  uint64
		wantMsg    string
	}{
		{name: "reading a stream the server never ends", serverHang: true, abandoned: 0, wantMsg: "run stopped before the request finished"},
		{name: "decoding a frame", abandoned: 1, wantMsg: "still streaming when the drain after the interruption (1ms) ran out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStall()
			defer s.free()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				stuck := strings.Contains(string(body), `"`+stuckID+`"`) || r.Header.Get("X-Request-Id") == stuckID
				w.Header().Set("Content-Type", "text/event-stream")
				text := "a"
				if stuck && !tc.serverHang {
					text = stuckText
				}
				fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", text)
				w.(http.Flusher).Flush()
				if stuck && tc.serverHang {
					s.block() // entered: the stream is under way
					<-r.Context().Done()
					return
				}
				fmt.Fprint(w, "data: [DONE]\n\n")
			}))
			defer srv.Close()
			defer srv.CloseClientConnections()
			c, err := targets.NewClient(srv.URL, stallChat{s: s})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdle()
			sink := &stallSink{}
			// No drain bound: the run waits until it is canceled, once the
			// other two requests are recorded, then gives the stuck one
			// 1 ms.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := []loadgen.Option{loadgen.WithPacer(stepPacer{time.Microsecond}), loadgen.WithRequests(3), loadgen.WithInterruptDrain(time.Millisecond)}
			done := runAsync(ctx, newRunner(t, c, &fakeSource{}, sink, opts...))
			<-s.entered
			for i := 0; len(sink.records()) < 2; i++ {
				if i == 6000 {
					t.Fatalf("the other requests did not finish; records %d", len(sink.records()))
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			res := wait(t, done)
			sink.close()
			if res.err != nil {
				t.Fatal(res.err)
			}
			if res.stats.Abandoned != tc.abandoned || res.stats.Recorded != 3 {
				t.Errorf("stats %+v: want 3 recorded, %d abandoned", res.stats, tc.abandoned)
			}
			for _, r := range sink.records() {
				switch {
				case r.ID != stuckID && r.Error != nil:
					t.Errorf("finished request %s: %+v", r.ID, r.Error)
				case r.ID == stuckID && (r.Error == nil || r.Error.Kind != results.KindCanceled || !strings.Contains(r.Error.Message, tc.wantMsg)):
					t.Errorf("stuck request: error %+v, want canceled saying %q", r.Error, tc.wantMsg)
				}
			}
			s.free()
			if !tc.serverHang {
				<-s.left
				time.Sleep(20 * time.Millisecond) // give a late write the chance to happen
			}
			if late := sink.lateIDs(); len(late) > 0 {
				t.Errorf("records %v reached the sink after Run returned", late)
			}
		})
	}
}
