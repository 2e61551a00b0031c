package analysis

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/streamgauge/streamgauge/results"
)

// bruteQuantile expands the weighted samples and takes rank round(q*N).
func bruteQuantile(es []entry, w []int32, q float64) (float64, bool) {
	var all []float64
	for _, e := range es {
		n := int(e.cnt)
		if w != nil {
			n *= int(w[e.cl])
		}
		for range n {
			all = append(all, bucketValue(e.code))
		}
	}
	if len(all) == 0 {
		return 0, false
	}
	slices.Sort(all)
	return all[rank(int64(len(all)), q)-1], true
}

// TestQuantileWalks checks both walks (from an end, and from an anchor)
// against sorting the expanded resample, on random data with ties, zero
// weights and multi-token entries.
func TestQuantileWalks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		nreq := 1 + rng.IntN(40)
		var es []entry
		for i := range nreq {
			for range rng.IntN(6) {
				es = append(es, entry{code: uint16(rng.IntN(20)), cl: uint16(i), cnt: uint32(1 + rng.IntN(3))})
			}
		}
		slices.SortFunc(es, func(a, b entry) int { return cmp.Or(cmp.Compare(a.code, b.code), cmp.Compare(a.cl, b.cl)) })
		w := make([]int32, nreq)
		for range nreq {
			w[rng.IntN(nreq)]++
		}
		for _, weights := range [][]int32{nil, w} {
			var W int64
			for _, e := range es {
				W += weightOf(e, weights)
			}
			for _, q := range []float64{0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1} {
				want, ok := bruteQuantile(es, weights, q)
				j := quantileIndex(es, weights, W, q)
				if !ok {
					if j != -1 {
						t.Fatalf("trial %d q %v: index %d for no samples", trial, q, j)
					}
					continue
				}
				if bucketValue(es[j].code) != want {
					t.Fatalf("trial %d q %v weights %v: quantileIndex value %v, want %v", trial, q, weights != nil, bucketValue(es[j].code), want)
				}
				for anchor := 0; anchor <= len(es); anchor++ {
					var below int64
					for _, e := range es[:anchor] {
						below += weightOf(e, weights)
					}
					if a := anchoredIndex(es, weights, W, q, anchor, below); bucketValue(es[a].code) != want {
						t.Fatalf("trial %d q %v anchor %d: anchoredIndex value %v, want %v", trial, q, anchor, bucketValue(es[a].code), want)
					}
				}
			}
		}
	}
}

func TestDraw(t *testing.T) {
	st := &resampleState{pcg: rand.NewPCG(0, 0), w: make([]int32, 50)}
	sum := func(w []int32) (n int) {
		for _, x := range w {
			n += int(x)
		}
		return n
	}
	st.draw(50, 7, 0, 3)
	first := slices.Clone(st.w)
	if sum(first) != 50 {
		t.Fatalf("draw counts sum to %d, want 50", sum(first))
	}
	st.draw(50, 7, 0, 4)
	st.draw(50, 7, 0, 3)
	if !slices.Equal(st.w, first) {
		t.Error("resample 3 of seed 7 drew differently the second time")
	}
	for _, other := range []struct {
		seed    uint64
		side, r int
	}{{8, 0, 3}, {7, 1, 3}, {7, 0, 4}} {
		st.draw(50, other.seed, other.side, other.r)
		if slices.Equal(st.w, first) {
			t.Errorf("seed %d side %d resample %d drew the same counts as seed 7 side 0 resample 3", other.seed, other.side, other.r)
		}
	}
}

// TestBucketCode: a code is the summary histogram's bucket, reported by its
// highest value, and codes order as values do.
func TestBucketCode(t *testing.T) {
	h := NewHistogram()
	// highest is the value the summary reports for a bucket holding us.
	highest := func(us int64) float64 {
		h.Reset()
		if err := h.RecordValue(us); err != nil {
			t.Fatal(err)
		}
		return float64(h.ValueAtQuantile(100))
	}
	rng := rand.New(rand.NewPCG(4, 5))
	for _, us := range []int64{0, 1, 2047, 2048, 2049, 4095, 4096, 1e6, HistMaxUS} {
		if got, want := math.Round(bucketValue(bucketCode(float64(us)/1000))*1000), highest(us); got != want {
			t.Errorf("%d µs: bucket value %v µs, histogram says %v", us, got, want)
		}
	}
	for range 3000 {
		us := int64(math.Exp(rng.Float64() * math.Log(float64(HistMaxUS))))
		code := bucketCode(float64(us) / 1000)
		if got, want := math.Round(bucketValue(code)*1000), highest(us); got != want {
			t.Fatalf("%d µs: bucket value %v µs, histogram says %v", us, got, want)
		}
		if int(code) >= numCodes {
			t.Fatalf("%d µs: code %d out of range", us, code)
		}
	}
	for _, ms := range []float64{-5, 0, 0.0004, math.NaN()} {
		if c := bucketCode(ms); c != 0 {
			t.Errorf("bucketCode(%v) = %d, want 0", ms, c)
		}
	}
	if c := bucketCode(math.Inf(1)); int(c) >= numCodes || bucketValue(c) < 1e15 {
		t.Errorf("bucketCode(+Inf) = %d (%v ms)", c, bucketValue(c))
	}
	for a := uint16(1); int(a) < numCodes-1; a++ {
		if bucketValue(a) <= bucketValue(a-1) {
			t.Fatalf("code %d: value %v not above code %d's %v", a, bucketValue(a), a-1, bucketValue(a-1))
		}
	}
}

// TestSamplesMemory: the entries kept for a token metric are bounded by
// clusters × buckets, not by tokens: 4,000 requests of 250 tokens each
// (1 million itl samples) keep at most one entry per bucket and cluster.
func TestSamplesMemory(t *testing.T) {
	for _, tokens := range []int{10, 250} {
		rng := rand.New(rand.NewPCG(6, uint64(tokens)))
		b := NewSampleBuilder("x", nil, false)
		icl := make([]float64, tokens)
		for i := range 4000 {
			speed := 10 * math.Exp(0.1*rng.NormFloat64())
			for j := range icl {
				icl[j] = speed * (1 + 0.05*rng.NormFloat64())
			}
			ttft := 100 + 50*rng.ExpFloat64()
			b.Append(&results.Record{SentNS: int64(i) * 1e6, DoneNS: int64(i)*1e6 + 1e9, TTFTMS: &ttft, E2EMS: 1000, ICLMS: icl, OutputTokens: tokens + 1})
		}
		s := b.Finish()
		itl := s.series["itl"]
		codes := map[uint16]bool{}
		var total int64
		for _, e := range itl.es {
			codes[e.code] = true
			total += int64(e.cnt)
		}
		if total != int64(4000*tokens) {
			t.Fatalf("%d tokens: %d itl samples kept, want %d", tokens, total, 4000*tokens)
		}
		if s.Clusters() <= MaxClusters/2 || s.Clusters() > MaxClusters {
			t.Errorf("%d tokens: %d clusters", tokens, s.Clusters())
		}
		if len(itl.es) > s.Clusters()*len(codes) {
			t.Errorf("%d tokens: %d entries for %d clusters × %d buckets", tokens, len(itl.es), s.Clusters(), len(codes))
		}
		t.Logf("%d tokens a request: %d itl samples in %d entries (%d clusters, %d buckets)", tokens, total, len(itl.es), s.Clusters(), len(codes))
	}
}
