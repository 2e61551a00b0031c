package dist_test

import (
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/streamgauge/streamgauge/loadgen/dist"
)

func TestParseRoundTrip(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"256", "256"},
		{" 256 ", "256"},
		{"fixed:256", "256"},
		{"FIXED: 256", "256"},
		{"1e3", "1000"},
		{"1000.0", "1000"},
		{"uniform:100,900", "uniform:100,900"},
		{"uniform:5,5", "uniform:5,5"},
		{"uniform: 100 , 900 , max=800", "uniform:100,900,max=800"},
		{"uniform:100,900,max=800,min=200", "uniform:100,900,min=200,max=800"},
		{"normal:500,120", "normal:500,120"},
		{"Normal:500.5,0.25", "normal:500.5,0.25"},
		{"normal:500,120,min=1,max=2048", "normal:500,120,min=1,max=2048"},
		{"normal:1e6,1e-7", "normal:1000000,1e-07"},
		{"lognormal:median=300,sigma=0.9", "lognormal:median=300,sigma=0.9"},
		{"lognormal:sigma=0.9,median=300", "lognormal:median=300,sigma=0.9"},
		{"lognormal:median=300,sigma=0.9,max=4096", "lognormal:median=300,sigma=0.9,max=4096"},
		{"lognormal:MEDIAN=300,Sigma=10,min=2", "lognormal:median=300,sigma=10,min=2"},
		{"empirical:lengths.csv:GeneratedTokens", "empirical:lengths.csv:GeneratedTokens"},
		{"empirical:lengths.csv:2", "empirical:lengths.csv:2"},
		{"empirical:lengths.csv:ContextTokens,min=10,max=1000", "empirical:lengths.csv:ContextTokens,min=10,max=1000"},
		{"empirical: single.csv ", "empirical:single.csv"},
		{"empirical:single.csv:tokens", "empirical:single.csv:tokens"},
		{"empirical:plain.txt", "empirical:plain.txt"},
		{"empirical:plain.txt:0,max=5", "empirical:plain.txt:0,max=5"},
		{"empirical:bom_crlf.csv:Response tokens", "empirical:bom_crlf.csv:Response tokens"},
		{"empirical:nohdr2.csv:1", "empirical:nohdr2.csv:1"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			d, err := dist.Parse(tt.spec, dist.WithBaseDir("testdata"))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := d.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			d2, err := dist.Parse(d.String(), dist.WithBaseDir("testdata"))
			if err != nil {
				t.Fatalf("Parse(String()): %v", err)
			}
			if d2.String() != d.String() {
				t.Fatalf("round trip %q -> %q", d.String(), d2.String())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"", `dist "": empty (want e.g. 256,`},
		{"   ", "empty"},
		{"normal:500", `dist "normal:500": normal needs mean,stddev (e.g. normal:500,120)`},
		{"normal", "normal needs parameters (e.g. normal:500,120)"},
		{"normal:500,120,7", "normal needs mean,stddev"},
		{"uniform:900,100", `dist "uniform:900,100": uniform low 900 is above high 100`},
		{"uniform:100", "uniform needs low,high"},
		{"uniform:0,100", "uniform low 0 must be >= 1"},
		{"uniform:1.5,100", "uniform low 1.5 is not a whole number"},
		{"uniform:1,2000000000", "uniform high 2000000000 is above the limit 1000000000"},
		{"lognormal:median=300,sigmaa=0.9", `dist "lognormal:median=300,sigmaa=0.9": unknown parameter "sigmaa" (want median, sigma, min, max)`},
		{"lognormal:300,0.9", "lognormal takes named parameters median and sigma"},
		{"lognormal:median=300", "lognormal needs median and sigma"},
		{"lognormal:median=300,sigma=0", "lognormal sigma 0 must be > 0"},
		{"lognormal:median=300,sigma=11", "lognormal sigma 11 is above the limit 10"},
		{"lognormal:median=0.5,sigma=1", "lognormal median 0.5 must be >= 1"},
		{"lognormal:median=300,sigma=0.9,median=2", `duplicate parameter "median"`},
		{"normal:NaN,1", `normal mean "NaN" is not a number`},
		{"normal:500,inf", `normal stddev "inf" is not a number`},
		{"normal:1e999,1", `normal mean "1e999" is not a finite number`},
		{"normal:0x10,1", `normal mean "0x10" is not a number`},
		{"normal:500,-1", "normal stddev -1 must be > 0"},
		{"normal:500,0", "normal stddev 0 must be > 0"},
		{"normal:-5,10", "normal mean -5 must be >= 1"},
		{"normal:500,120,min=0", "min 0 must be >= 1"},
		{"normal:500,120,min=-3", "min -3 must be >= 1"},
		{"normal:500,120,min=300,max=200", "min 300 is above max 200"},
		{"normal:500,120,max=", "max needs a value"},
		{"normal:500,120,max=2048.5", "max 2048.5 is not a whole number"},
		{"normal:500,,120", "empty parameter (stray comma?)"},
		{"normal:500,120,", "empty parameter"},
		{"normal:500,120,mean=3", `unknown parameter "mean" (want min, max)`},
		{"256,min=1", "fixed 256 cannot be clipped"},
		{"fixed:256,max=300", "fixed 256 cannot be clipped"},
		{"fixed:", "fixed needs one length"},
		{"normal:", "normal needs mean,stddev"},
		{"lognormal:", "lognormal needs median and sigma"},
		{"0", "fixed length 0 must be >= 1"},
		{"-5", "fixed length -5 must be >= 1"},
		{"2.5", "fixed length 2.5 is not a whole number"},
		{"gauss:1,2", `unknown kind "gauss"`},
		{"abc", `unknown kind "abc"`},
		{"empirical:", "empirical needs a file"},
		{"empirical:lengths.csv:", "empty column after ':'"},
		{"empirical:x.csv:Foo", "empirical file: open"},
		{"empirical:lengths.csv:Foo", `column "Foo" not in lengths.csv (have TIMESTAMP, ContextTokens, GeneratedTokens)`},
		{"empirical:lengths.csv:7", "column 7 not in lengths.csv (have 3 columns, index from 0: TIMESTAMP, ContextTokens, GeneratedTokens)"},
		{"empirical:lengths.csv", "lengths.csv has 3 columns, name one (have TIMESTAMP, ContextTokens, GeneratedTokens)"},
		{"empirical:lengths.csv:TIMESTAMP", `lengths.csv line 2, column "TIMESTAMP": value "2023-11-16 18:15:00.8990608" is not a number`},
		{"empirical:lengths.csv:GeneratedTokens,maxx=3", `unknown parameter "maxx" (want min, max)`},
		{"empirical:lengths.csv:GeneratedTokens,min=9,min=3", `duplicate parameter "min"`},
		{"empirical:lengths.csv:GeneratedTokens,min=90,max=3", "min 90 is above max 3"},
		{"empirical:zeros.csv:Response tokens", `zeros.csv, column "Response tokens": 2 values below 1 (first: 0 on line 3)`},
		{"empirical:bad.csv:b", `bad.csv line 3, column "b": value "x" is not a number`},
		{"empirical:floats.csv:ratio", `floats.csv line 2, column "ratio": value 0.5 is not a whole number`},
		{"empirical:header_only.csv:a", `header_only.csv has no values in column "a"`},
		{"empirical:ragged.csv:b", "ragged.csv line 3 has 1 fields, no column \"b\""},
		{"empirical:nohdr2.csv", "nohdr2.csv has no header and 2 columns; name one by index 0..1"},
		{"empirical:nohdr2.csv:b", `column "b" not in nohdr2.csv (no header; want an index 0..1)`},
		{"empirical:fuzz", "is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			d, err := dist.Parse(tt.spec, dist.WithBaseDir("testdata"))
			if err == nil {
				t.Fatalf("Parse = %v, want error containing %q", d, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q\nwant substring %q", msg, tt.want)
			}
			if !strings.HasPrefix(msg, "dist ") || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q is not one line starting with the spec", msg)
			}
		})
	}
}

func TestEmpiricalNotExistWraps(t *testing.T) {
	_, err := dist.Parse("empirical:missing.csv", dist.WithBaseDir("testdata"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want wrapping fs.ErrNotExist", err)
	}
}

func TestEmpiricalPaths(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("testdata", "single.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// An absolute path ignores the base directory.
	if _, err := dist.Parse("empirical:"+abs, dist.WithBaseDir("/nonexistent")); err != nil {
		t.Fatalf("absolute path: %v", err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "lengths.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"data/lengths.csv": {Data: data}}
	d, err := dist.Parse("empirical:lengths.csv:GeneratedTokens", dist.WithFS(fsys), dist.WithBaseDir("data"))
	if err != nil {
		t.Fatalf("WithFS: %v", err)
	}
	// Same column from the OS must give the same distribution.
	d2, err := dist.Parse("empirical:lengths.csv:2", dist.WithBaseDir("testdata"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Mean() != d2.Mean() {
		t.Fatalf("FS mean %v != OS mean %v", d.Mean(), d2.Mean())
	}
	if _, err := dist.Parse("empirical:/abs.csv", dist.WithFS(fsys)); err == nil || !strings.Contains(err.Error(), "not a valid path") {
		t.Fatalf("absolute path in FS: err = %v", err)
	}
	if _, err := dist.Parse("256", dist.WithFS(nil)); err == nil {
		t.Fatal("WithFS(nil) accepted")
	}
}

func TestExactMeans(t *testing.T) {
	tests := []struct {
		spec string
		want float64
	}{
		{"256", 256},
		{"uniform:1,10", 5.5},
		{"uniform:1,10,min=3,max=8", (3*3 + 4 + 5 + 6 + 7 + 8*3) / 10.0},
		{"uniform:1,10,min=20", 20},
		{"uniform:1,10,max=1", 1},
		{"empirical:plain.txt", (3 + 1 + 4 + 1 + 5 + 9 + 2 + 6 + 5 + 3 + 5 + 8 + 9 + 7 + 9) / 15.0},
		{"empirical:plain.txt:0,min=2,max=8", (3 + 2 + 4 + 2 + 5 + 8 + 2 + 6 + 5 + 3 + 5 + 8 + 8 + 7 + 8) / 15.0},
		{"normal:5000,120", 5000},
		{"normal:1e8,1", 1e8},
		{"normal:1e8,1,max=100", 100},
		{"lognormal:median=300,sigma=0.9", 300 * math.Exp(0.81/2)},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			d, err := dist.Parse(tt.spec, dist.WithBaseDir("testdata"))
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Mean(); math.Abs(got-tt.want) > 1e-6*math.Max(1, tt.want) {
				t.Fatalf("Mean() = %.10g, want %.10g", got, tt.want)
			}
		})
	}
}

// TestMeanMatchesCDF checks Mean against lo + sum_k (1 - CDF(k)), summed
// term by term over the whole clip range, including ranges where Mean
// integrates instead of summing.
func TestMeanMatchesCDF(t *testing.T) {
	tests := []struct {
		spec   string
		lo, hi int
	}{
		{"normal:50,10,min=30,max=80", 30, 80},
		{"normal:5,3", 1, 200},
		{"normal:100000,5000,max=110000", 1, 110000},
		{"normal:100000,5000,min=95000,max=180000", 95000, 180000},
		{"lognormal:median=300,sigma=0.9,max=200000", 1, 200000},
		{"lognormal:median=2,sigma=2,max=300000", 1, 300000},
		{"lognormal:median=50000,sigma=0.3,min=40000,max=400000", 40000, 400000},
		{"uniform:100,900,min=200,max=700", 200, 700},
		{"empirical:lengths.csv:ContextTokens,min=100,max=1000", 100, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			d, err := dist.Parse(tt.spec, dist.WithBaseDir("testdata"))
			if err != nil {
				t.Fatal(err)
			}
			if c := d.CDF(float64(tt.lo) - 1); c != 0 {
				t.Errorf("CDF(lo-1) = %v, want 0", c)
			}
			if c := d.CDF(float64(tt.hi)); c != 1 {
				t.Errorf("CDF(hi) = %v, want 1", c)
			}
			want := float64(tt.lo)
			for k := tt.lo; k < tt.hi; k++ {
				want += 1 - d.CDF(float64(k))
			}
			if got := d.Mean(); math.Abs(got-want) > 1e-9*want {
				t.Fatalf("Mean() = %.12g, sum over CDF = %.12g", got, want)
			}
		})
	}
}

func TestCDFShape(t *testing.T) {
	for _, spec := range []string{"256", "uniform:3,9", "normal:20,5,min=10", "lognormal:median=30,sigma=1,max=100", "empirical:plain.txt"} {
		d, err := dist.Parse(spec, dist.WithBaseDir("testdata"))
		if err != nil {
			t.Fatal(err)
		}
		if !math.IsNaN(d.CDF(math.NaN())) {
			t.Errorf("%s: CDF(NaN) is not NaN", spec)
		}
		if d.CDF(math.Inf(-1)) != 0 || d.CDF(math.Inf(1)) != 1 || d.CDF(0) != 0 {
			t.Errorf("%s: CDF(-Inf), CDF(0), CDF(+Inf) = %v, %v, %v", spec, d.CDF(math.Inf(-1)), d.CDF(0), d.CDF(math.Inf(1)))
		}
		prev := 0.0
		for x := 0.0; x <= 300; x += 0.25 {
			c := d.CDF(x)
			if c < prev || c > 1 {
				t.Fatalf("%s: CDF(%v) = %v after %v", spec, x, c, prev)
			}
			if c != d.CDF(math.Floor(x)) {
				t.Fatalf("%s: CDF(%v) = %v != CDF(floor) %v", spec, x, c, d.CDF(math.Floor(x)))
			}
			prev = c
		}
	}
}

func TestSampleDeterministic(t *testing.T) {
	d, err := dist.Parse("lognormal:median=300,sigma=0.9,max=4096")
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := rand.New(rand.NewPCG(7, 8)), rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		a, b := d.Sample(r1), d.Sample(r2)
		if a != b {
			t.Fatalf("same seed gave %d and %d", a, b)
		}
		if a < 1 || a > 4096 {
			t.Fatalf("sample %d outside [1, 4096]", a)
		}
	}
}

func TestExtremeParametersStayInRange(t *testing.T) {
	for _, spec := range []string{
		"normal:1,1000000000", "normal:1000000000,1000000000",
		"lognormal:median=1,sigma=10", "lognormal:median=1000000000,sigma=10",
		"uniform:1,1000000000", "lognormal:median=300,sigma=1e-300",
	} {
		d, err := dist.Parse(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		m := d.Mean()
		if math.IsNaN(m) || m < 1 || m > 1e9 {
			t.Errorf("%s: Mean() = %v", spec, m)
		}
		r := rand.New(rand.NewPCG(1, 1))
		for range 10000 {
			if v := d.Sample(r); v < 1 || v > 1e9 {
				t.Fatalf("%s: sample %d", spec, v)
			}
		}
	}
}
