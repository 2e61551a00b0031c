package analysis

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/streamgauge/streamgauge/results"
)

// TruthRecord is one line of the simulator's truth log (`streamgauge serve
// --truth-log FILE`, targets/sim.Truth): what the server did for one
// request, on the wall clock in Unix nanoseconds. Only the fields a
// comparison needs are read.
type TruthRecord struct {
	ID        string  `json:"id"`
	Status    int     `json:"status"`
	Outcome   string  `json:"outcome"`
	ArrivalNS int64   `json:"arrival_ns"`
	TokenNS   []int64 `json:"token_ns"`
}

// ReadTruth reads a truth log into a map by request id.
func ReadTruth(path string) (map[string]*TruthRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("truth log: %w", err)
	}
	defer f.Close()
	out := map[string]*TruthRecord{}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	for dec.More() {
		var t TruthRecord
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("truth log %s: %w", path, err)
		}
		out[t.ID] = &t
	}
	return out, nil
}

// ClientRequest is one finished request as a client saw it, with its
// events on the wall clock (Unix nanoseconds) so that it compares with a
// truth log written on the same machine.
type ClientRequest struct {
	ID string
	// Sched and SentAt are the scheduled and actual send, as offsets from
	// the client's run start.
	Sched, SentAt int64
	// Sent and Done are the send and the end of the stream, wall clock.
	Sent, Done int64
	// Stamps holds the arrival of every token-bearing frame, wall clock.
	Stamps []int64
	OK     bool
	// Warmup marks a request sent in the run's warm-up.
	Warmup bool
}

// RunRequests reads a run directory's records as ClientRequests. Records
// hold monotonic offsets from run.json's start, the runner's own time
// origin, so start + offset is the wall-clock time of each event; the
// frame stamps are rebuilt from first_token_ns and the icl gaps.
func RunRequests(dir string) ([]ClientRequest, error) {
	var info results.RunInfo
	if err := results.ReadJSON(dir, results.RunFile, &info); err != nil {
		return nil, err
	}
	start := info.Start.UnixNano()
	var out []ClientRequest
	err := results.ReadRecords(dir, func(r *results.Record) error {
		c := ClientRequest{ID: r.ID, Sched: r.ScheduledNS, SentAt: r.SentNS, Sent: start + r.SentNS, Done: start + r.DoneNS, OK: r.Error == nil, Warmup: r.Warmup}
		if r.Frames > 0 {
			c.Stamps = make([]int64, 0, r.Frames)
			t := start + r.FirstTokenNS
			c.Stamps = append(c.Stamps, t)
			for _, g := range r.ICLMS {
				t += int64(math.Round(g * 1e6))
				c.Stamps = append(c.Stamps, t)
			}
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// TruthErrors is a client's measurement error against the truth log, in
// ms. On one clock (client and server on one machine):
//
//	send      = server arrival − client send stamp      (request on its way)
//	first     = client first-token stamp − server send  (first token on its way)
//	ttft      = client ttft − server ttft (arrival → first token sent)
//	          = send + first
//	frame     = client stamp − server send, every token frame
//	gap       = client gap − server gap, every consecutive pair of frames
//
// A quantile of no samples is 0 (Requests and Frames say how many there
// are), so the value encodes as JSON.
type TruthErrors struct {
	Requests   int     `json:"requests_matched"`
	Unmatched  int     `json:"requests_unmatched"`
	Frames     int     `json:"frames"`
	TTFTP50    float64 `json:"ttft_err_p50_ms"`
	TTFTP99    float64 `json:"ttft_err_p99_ms"`
	SendP50    float64 `json:"send_err_p50_ms"`
	FirstP50   float64 `json:"first_token_err_p50_ms"`
	FrameP50   float64 `json:"frame_delay_p50_ms"`
	FrameP99   float64 `json:"frame_delay_p99_ms"`
	GapP50     float64 `json:"gap_err_p50_ms"`
	GapP99     float64 `json:"gap_err_p99_ms"`
	GapAbsP50  float64 `json:"gap_abs_err_p50_ms"`
	GapAbsP99  float64 `json:"gap_abs_err_p99_ms"`
	GapAbsP999 float64 `json:"gap_abs_err_p99.9_ms"`
}

// CompareTruth matches requests by id (the client's X-Request-Id is the
// record id, and the simulator logs it) and compares every frame. A
// request that failed on either side, or whose frame counts differ, is
// counted as unmatched.
func CompareTruth(reqs []ClientRequest, truth map[string]*TruthRecord) *TruthErrors {
	var ttft, send, first, frame, gap, gapAbs []float64
	st := &TruthErrors{}
	for i := range reqs {
		c := &reqs[i]
		t, ok := truth[c.ID]
		if !c.OK || !ok || t.Outcome != "ok" || len(t.TokenNS) == 0 || len(t.TokenNS) != len(c.Stamps) {
			st.Unmatched++
			continue
		}
		st.Requests++
		s, f := float64(t.ArrivalNS-c.Sent), float64(c.Stamps[0]-t.TokenNS[0])
		send = append(send, s/1e6)
		first = append(first, f/1e6)
		ttft = append(ttft, (s+f)/1e6)
		for k := range c.Stamps {
			d := c.Stamps[k] - t.TokenNS[k]
			frame = append(frame, float64(d)/1e6)
			if k > 0 {
				g := float64((c.Stamps[k]-c.Stamps[k-1])-(t.TokenNS[k]-t.TokenNS[k-1])) / 1e6
				gap = append(gap, g)
				gapAbs = append(gapAbs, math.Abs(g))
			}
		}
	}
	st.Frames = len(frame)
	q := func(v []float64, q float64) float64 {
		if len(v) == 0 {
			return 0
		}
		return NearestRank(v, q)
	}
	st.TTFTP50, st.TTFTP99 = q(ttft, 0.5), q(ttft, 0.99)
	st.SendP50, st.FirstP50 = q(send, 0.5), q(first, 0.5)
	st.FrameP50, st.FrameP99 = q(frame, 0.5), q(frame, 0.99)
	st.GapP50, st.GapP99 = q(gap, 0.5), q(gap, 0.99)
	st.GapAbsP50, st.GapAbsP99, st.GapAbsP999 = q(gapAbs, 0.5), q(gapAbs, 0.99), q(gapAbs, 0.999)
	return st
}

// NearestRank sorts v (ms) in place and returns its q-quantile by nearest
// rank, rounded to the microsecond; NaN when v is empty.
func NearestRank(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	if !slices.IsSorted(v) {
		slices.Sort(v)
	}
	i := int(math.Ceil(q*float64(len(v)))) - 1
	i = min(max(i, 0), len(v)-1)
	return math.Round(v[i]*1000) / 1000
}

// ClientLoad is what a client's requests say about the load itself.
type ClientLoad struct {
	// ScheduledRate is the realised schedule's rate (a Poisson schedule's
	// own sampling noise is ~1/sqrt(n)); AchievedRate the sent one.
	ScheduledRate, AchievedRate float64
	LagP50, LagP99              float64 // ms
	PeakStreams                 int
	OK, Failed                  int
	// Frames counts the token-bearing frames received.
	Frames int
}

// LoadOf computes the load of a client's requests: rates from the first
// to the last send, lag (actual − scheduled send), and the most streams
// open at once.
func LoadOf(reqs []ClientRequest) ClientLoad {
	var ls ClientLoad
	if len(reqs) == 0 {
		return ls
	}
	minS, maxS, minA, maxA := int64(math.MaxInt64), int64(math.MinInt64), int64(math.MaxInt64), int64(math.MinInt64)
	lag := make([]float64, 0, len(reqs))
	type ev struct {
		t int64
		d int
	}
	evs := make([]ev, 0, 2*len(reqs))
	for _, r := range reqs {
		if r.OK {
			ls.OK++
		} else {
			ls.Failed++
		}
		ls.Frames += len(r.Stamps)
		minS, maxS = min(minS, r.Sched), max(maxS, r.Sched)
		minA, maxA = min(minA, r.SentAt), max(maxA, r.SentAt)
		lag = append(lag, float64(r.SentAt-r.Sched)/1e6)
		evs = append(evs, ev{r.Sent, 1}, ev{r.Done, -1})
	}
	n := float64(len(reqs) - 1)
	if maxS > minS {
		ls.ScheduledRate = n / (float64(maxS-minS) / 1e9)
	}
	if maxA > minA {
		ls.AchievedRate = n / (float64(maxA-minA) / 1e9)
	}
	ls.LagP50, ls.LagP99 = NearestRank(lag, 0.5), NearestRank(lag, 0.99)
	slices.SortFunc(evs, func(a, b ev) int {
		if a.t != b.t {
			return int(min(max(a.t-b.t, -1), 1))
		}
		return a.d - b.d // an end before a start at the same instant
	})
	cur := 0
	for _, e := range evs {
		cur += e.d
		ls.PeakStreams = max(ls.PeakStreams, cur)
	}
	return ls
}
