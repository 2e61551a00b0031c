package dist_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/streamgauge/streamgauge/loadgen/dist"
)

// fuzzFS holds the test data files, so fuzzed empirical paths can never
// reach the real file system.
func fuzzFS(f *testing.F) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, name := range []string{"lengths.csv", "single.csv", "plain.txt", "bom_crlf.csv", "nohdr2.csv", "zeros.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// clipSuffix matches the canonical clip at the end of String().
var clipSuffix = regexp.MustCompile(`(?:,min=(\d+))?(?:,max=(\d+))?$`)

// bounds returns the range every sample must fall in, from the canonical spec.
func bounds(t *testing.T, s string) (lo, hi int) {
	if v, err := strconv.Atoi(s); err == nil {
		return v, v
	}
	lo, hi = 1, 1_000_000_000 // the package's documented limits
	m := clipSuffix.FindStringSubmatch(s)
	if m[1] != "" {
		lo, _ = strconv.Atoi(m[1])
	}
	if m[2] != "" {
		hi, _ = strconv.Atoi(m[2])
	}
	if lo < 1 || lo > hi {
		t.Fatalf("String() %q has clip [%d, %d]", s, lo, hi)
	}
	return lo, hi
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"256", "fixed:256", "uniform:100,900", "normal:500,120",
		"normal:500,120,min=1,max=2048", "lognormal:median=300,sigma=0.9",
		"lognormal:median=300,sigma=0.9,max=4096", "empirical:lengths.csv:GeneratedTokens",
		"empirical:plain.txt", "empirical:single.csv,min=10", "256,min=1",
	} {
		f.Add(s)
	}
	fsys := fuzzFS(f)
	f.Fuzz(func(t *testing.T, spec string) {
		d, err := dist.Parse(spec, dist.WithFS(fsys))
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "dist ") || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error is not one line starting with the spec: %q", msg)
			}
			return
		}
		s := d.String()
		d2, err := dist.Parse(s, dist.WithFS(fsys))
		if err != nil {
			t.Fatalf("Parse(%q) ok, but Parse(String() = %q): %v", spec, s, err)
		}
		if s2 := d2.String(); s2 != s {
			t.Fatalf("String() not stable: %q -> %q -> %q", spec, s, s2)
		}
		lo, hi := bounds(t, s)
		if m := d.Mean(); !(m >= float64(lo)-1e-6 && m <= float64(hi)+1e-6) {
			t.Fatalf("%q: Mean() = %v outside [%d, %d]", s, m, lo, hi)
		}
		if c := d.CDF(float64(lo) - 1); c != 0 {
			t.Fatalf("%q: CDF(lo-1) = %v", s, c)
		}
		if c := d.CDF(float64(hi)); c != 1 {
			t.Fatalf("%q: CDF(hi) = %v", s, c)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 64 {
			v := d.Sample(r)
			if v < 1 || v < lo || v > hi {
				t.Fatalf("%q: Sample() = %d outside [%d, %d]", s, v, lo, hi)
			}
			if c := d.CDF(float64(v)); math.IsNaN(c) || c < 0 || c > 1 {
				t.Fatalf("%q: CDF(%d) = %v", s, v, c)
			}
		}
	})
}
