package analysis_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
)

func TestCompareTruth(t *testing.T) {
	const ms = int64(1e6)
	truth := map[string]*analysis.TruthRecord{
		"a": {ID: "a", Outcome: "ok", ArrivalNS: 1 * ms, TokenNS: []int64{51 * ms, 61 * ms, 71 * ms}},
		"b": {ID: "b", Outcome: "ok", ArrivalNS: 2 * ms, TokenNS: []int64{52 * ms, 62 * ms}},
		"c": {ID: "c", Outcome: "canceled", ArrivalNS: 3 * ms, TokenNS: []int64{53 * ms}},
	}
	reqs := []analysis.ClientRequest{
		// 0.5 ms on the way out, 0.5 ms back: ttft error 1 ms; one gap 1 ms late.
		{ID: "a", OK: true, Sent: 1*ms - ms/2, Stamps: []int64{51*ms + ms/2, 62*ms + ms/2, 72*ms + ms/2}},
		// On time to the nanosecond.
		{ID: "b", OK: true, Sent: 2 * ms, Stamps: []int64{52 * ms, 62 * ms}},
		{ID: "c", OK: true, Sent: 3 * ms, Stamps: []int64{53 * ms}}, // server says canceled
		{ID: "d", OK: true, Sent: 3 * ms, Stamps: []int64{53 * ms}}, // not in the log
		{ID: "b", OK: false}, // failed on the client
	}
	got := analysis.CompareTruth(reqs, truth)
	want := analysis.TruthErrors{Requests: 2, Unmatched: 3, Frames: 5,
		TTFTP50: 0, TTFTP99: 1, SendP50: 0, FirstP50: 0, FrameP50: 0.5, FrameP99: 1.5,
		GapP50: 0, GapP99: 1, GapAbsP50: 0, GapAbsP99: 1, GapAbsP999: 1}
	if *got != want {
		t.Errorf("CompareTruth:\n got %+v\nwant %+v", *got, want)
	}
}

func TestNearestRank(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		q    float64
		want float64
	}{
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{3, 1, 2}, 0.99, 3},
		{[]float64{3, 1, 2}, 0, 1},
		{[]float64{1.23456}, 0.5, 1.235},
	} {
		if got := analysis.NearestRank(tc.v, tc.q); got != tc.want {
			t.Errorf("NearestRank(%v, %g) = %g, want %g", tc.v, tc.q, got, tc.want)
		}
	}
	if got := analysis.NearestRank(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("NearestRank(nil) = %g, want NaN", got)
	}
}

func TestLoadOf(t *testing.T) {
	const ms = int64(1e6)
	reqs := []analysis.ClientRequest{
		{Sched: 0, SentAt: 1 * ms, Sent: 0, Done: 100 * ms, OK: true, Stamps: []int64{1, 2}},
		{Sched: 500 * ms, SentAt: 502 * ms, Sent: 50 * ms, Done: 150 * ms, OK: true, Stamps: []int64{1}},
		{Sched: 1000 * ms, SentAt: 1001 * ms, Sent: 200 * ms, Done: 300 * ms, OK: false},
	}
	got := analysis.LoadOf(reqs)
	if got.OK != 2 || got.Failed != 1 || got.Frames != 3 || got.PeakStreams != 2 || got.LagP50 != 1 || got.LagP99 != 2 || got.ScheduledRate != 2 || got.AchievedRate != 2 {
		t.Errorf("LoadOf = %+v", got)
	}
}

func TestReadTruth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "truth.jsonl")
	log := `{"id":"r0","api":"openai-chat","status":200,"outcome":"ok","arrival_ns":5,"token_ns":[7,9],"end_ns":10}
{"id":"r1","status":429,"outcome":"http_429","arrival_ns":6,"token_ns":null,"end_ns":6}
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := analysis.ReadTruth(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 2 || tr["r0"].ArrivalNS != 5 || len(tr["r0"].TokenNS) != 2 || tr["r1"].Outcome != "http_429" {
		t.Errorf("ReadTruth = %+v", tr)
	}
	if err := os.WriteFile(path, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := analysis.ReadTruth(path); err == nil {
		t.Error("ReadTruth of a damaged log: no error")
	}
}
