package analysis

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
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
