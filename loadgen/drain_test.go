package loadgen_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

// stuckID is the request the drain tests leave stuck: the last of three.
const stuckID = "2"

// stuckText is the frame text of the stuck request, which stuckCounter
// blocks on.
const stuckText = "stuck"

// stall is one piece of work stuck until released, ignoring every context:
// CPU-bound work (decoding a huge frame, counting its tokens) that no
// cancellation interrupts.
type stall struct {
	entered chan struct{} // closed when the work is entered
	release chan struct{} // close to let it go on
	left    chan struct{} // closed when the work has gone on
	once    sync.Once
	freed   sync.Once
}

// free lets the stuck work go on.
func (s *stall) free() { s.freed.Do(func() { close(s.release) }) }

func newStall() *stall {
	return &stall{entered: make(chan struct{}), release: make(chan struct{}), left: make(chan struct{})}
}

func (s *stall) block() {
	s.once.Do(func() {
		close(s.entered)
		<-s.release
		close(s.left)
	})
}

// stallDoer answers like fakeDoer; the stuck request's stream (reading and
// decoding) stalls when stream is set, and carries stuckText.
type stallDoer struct {
	fakeDoer
	stream *stall
}

func (d *stallDoer) Do(ctx context.Context, r *targets.Request) *targets.Response {
	resp := d.fakeDoer.Do(ctx, r)
	if r.ID == stuckID {
		if d.stream != nil {
			d.stream.block()
		}
		resp.Frames[0].Text = stuckText
	}
	return resp
}

// stallCounter counts one token per frame; counting stuckText stalls.
type stallCounter struct{ s *stall }

func (c stallCounter) Count(text string) int {
	if text == stuckText && c.s != nil {
		c.s.block()
	}
	return 1
}

// stallSink keeps records like memSink; writing the stuck request's record
// stalls. After close, any record is an error: a late request wrote into
// a sink its run had handed back.
type stallSink struct {
	memSink
	s      *stall
	mu     sync.Mutex
	closed bool
	late   []string
}

func (k *stallSink) Append(r *results.Record) error {
	k.mu.Lock()
	if k.closed {
		k.late = append(k.late, r.ID)
	}
	k.mu.Unlock()
	if r.ID == stuckID && r.Error == nil && k.s != nil {
		k.s.block()
	}
	return k.memSink.Append(r)
}

func (k *stallSink) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
}

func (k *stallSink) lateIDs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.late
}

// TestRunDrainIsAHardBound leaves one request of three stuck in each phase
// (its stream, counting its tokens, writing its record), in work that
// ignores cancellation, and ends the run in each way (the schedule ends, the
// run is canceled, it is stopped at once). Run must return without the
// stuck work: every finished request recorded, the stuck one recorded as
// canceled (unless its record was being written), and nothing written by
// it after Run returned.
func TestRunDrainIsAHardBound(t *testing.T) {
	phases := []struct {
		name      string
		stream    bool // the stream stalls (reading, decoding)
		count     bool // counting its tokens stalls
		write     bool // writing its record stalls
		wantPhase string
	}{
		{name: "stream", stream: true, wantPhase: "still streaming"},
		{name: "counting", count: true, wantPhase: "still counting its tokens"},
		{name: "writing", write: true},
	}
	ends := []struct {
		name      string
		drain     time.Duration
		cancel    bool // cancel the run's context once the stuck work is entered
		stopNow   bool // close the stop-now channel once the stuck work is entered
		interrupt bool
	}{
		{name: "schedule ends, drain runs out", drain: time.Millisecond},
		// No drain timeout waits for every request, until an interruption
		// during the drain leaves them the interruption's drain.
		{name: "no drain bound, canceled during the drain", cancel: true, interrupt: true},
		{name: "no drain bound, stopped at once", stopNow: true, interrupt: true},
		{name: "long drain, canceled, then stopped at once", drain: time.Hour, cancel: true, stopNow: true, interrupt: true},
	}
	for _, ph := range phases {
		for _, end := range ends {
			t.Run(ph.name+"/"+end.name, func(t *testing.T) {
				s := newStall()
				defer s.free()
				d := &stallDoer{}
				var counter stallCounter
				sink := &stallSink{}
				switch {
				case ph.stream:
					d.stream = s
				case ph.count:
					counter.s = s
				case ph.write:
					sink.s = s
				}
				stop := make(chan struct{})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				opts := []loadgen.Option{loadgen.WithPacer(stepPacer{time.Microsecond}), loadgen.WithRequests(3),
					loadgen.WithCounter(counter), loadgen.WithDrainTimeout(end.drain), loadgen.WithInterruptDrain(time.Millisecond), loadgen.WithStopNow(stop)}
				done := runAsync(ctx, newRunner(t, d, &fakeSource{}, sink, opts...))
				<-s.entered
				if end.cancel {
					cancel()
				}
				if end.stopNow {
					close(stop)
				}
				res := wait(t, done)
				sink.close()
				if res.err != nil {
					t.Fatal(res.err)
				}
				st := res.stats
				if st.Interrupted != end.interrupt {
					t.Errorf("Interrupted = %v, want %v", st.Interrupted, end.interrupt)
				}
				recs := sink.records()
				byID := map[string]*results.Record{}
				for _, r := range recs {
					if byID[r.ID] != nil {
						t.Errorf("request %s recorded twice", r.ID)
					}
					byID[r.ID] = r
				}
				for _, id := range []string{"0", "1"} {
					if r := byID[id]; r == nil || r.Error != nil {
						t.Errorf("finished request %s: record %+v, want it recorded without error", id, r)
					}
				}
				if ph.write {
					// Its record is in the sink's hands: nothing to abandon,
					// and Run says one write did not end.
					if st.Abandoned != 0 || st.Unwritten != 1 || byID[stuckID] != nil {
						t.Errorf("abandoned %d, unwritten %d, stuck record %+v: want 0, 1, none yet", st.Abandoned, st.Unwritten, byID[stuckID])
					}
				} else {
					r := byID[stuckID]
					switch {
					case r == nil:
						t.Fatalf("the stuck request has no record; records %v", ids(t, recs))
					case r.Error == nil || r.Error.Kind != results.KindCanceled || !strings.Contains(r.Error.Message, ph.wantPhase):
						t.Errorf("stuck request: error %+v, want kind canceled saying %q", r.Error, ph.wantPhase)
					case r.SLOOK || r.TPOTMS != nil:
						t.Errorf("stuck request: slo_ok %v tpot %v, want false and none", r.SLOOK, r.TPOTMS)
					}
					if ph.count && (r.TTFTMS == nil || r.Frames != 3) {
						t.Errorf("stuck while counting: ttft %v, %d frames: want the stream's timings kept", r.TTFTMS, r.Frames)
					}
					if st.Abandoned != 1 || st.Unwritten != 0 || st.Recorded != 3 || st.Sent != 3 {
						t.Errorf("stats %+v: want 3 sent, 3 recorded, 1 abandoned, 0 unwritten", st)
					}
				}
				// Let the stuck work go on: its late result must not reach
				// the sink (a write already in progress just ends).
				s.free()
				<-s.left
				time.Sleep(20 * time.Millisecond) // give a late write the chance to happen
				if late := sink.lateIDs(); len(late) > 0 && !(ph.write && len(late) == 1 && late[0] == stuckID) {
					t.Errorf("records %v reached the sink after Run returned", late)
				}
			})
		}
	}
}

// TestRunStopNowBeforeStart: stopping at once while waiting for --start-at
// returns without sending anything.
func TestRunStopNowBeforeStart(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	d, sink := &fakeDoer{}, &memSink{}
	r := newRunner(t, d, &fakeSource{}, sink, loadgen.WithPacer(stepPacer{time.Millisecond}), loadgen.WithRequests(3),
		loadgen.WithStartAt(time.Now().Add(time.Hour)), loadgen.WithStopNow(stop))
	res := wait(t, runAsync(context.Background(), r))
	if !res.stats.Interrupted || d.calls.Load() != 0 || len(sink.records()) != 0 {
		t.Errorf("stats %+v, %d calls, %d records: want interrupted, nothing sent", res.stats, d.calls.Load(), len(sink.records()))
	}
}
