package harness_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
)

func TestParseWhatIf(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
		want  []harness.WhatIfDim
		err   []string // substrings, one per line of the error
	}{
		{name: "schedulers", specs: []string{"scheduler=continuous,chunked-prefill,priority"},
			want: []harness.WhatIfDim{{Key: "scheduler", Values: []string{"continuous", "chunked-prefill", "priority"}}}},
		{name: "sim- prefix and spaces", specs: []string{" sim-max-batch = 64 , 256 ", "kv-tokens=0,20000"},
			want: []harness.WhatIfDim{{Key: "max-batch", Values: []string{"64", "256"}}, {Key: "kv-tokens", Values: []string{"0", "20000"}}}},
		{name: "numbers and booleans are normalised", specs: []string{"max-step-tokens=0512", "prefix-cache=1,false"},
			want: []harness.WhatIfDim{{Key: "max-step-tokens", Values: []string{"512"}}, {Key: "prefix-cache", Values: []string{"true", "false"}}}},
		{name: "unknown scheduler", specs: []string{"scheduler=continuous,lifo"},
			err: []string{`--what-if "scheduler=continuous,lifo": scheduler "lifo" is not one of fcfs, static, continuous, chunked-prefill, priority`}},
		{name: "fixed", specs: []string{"scheduler=fixed"}, err: []string{"scheduler fixed ignores the cost model"}},
		{name: "unknown key with a hint", specs: []string{"max-bach=1"}, err: []string{`"max-bach" is not a setting a what-if can vary (did you mean max-batch?)`}},
		{name: "no equals", specs: []string{"scheduler"}, err: []string{"want SETTING=VALUE,VALUE,..."}},
		{name: "empty value", specs: []string{"max-batch=64,,128"}, err: []string{"an empty value"}},
		{name: "nothing after equals", specs: []string{"max-batch="}, err: []string{"an empty value"}},
		{name: "zero batch", specs: []string{"max-batch=0"}, err: []string{`max-batch "0": want a whole number of at least 1`}},
		{name: "negative kv", specs: []string{"kv-tokens=-1"}, err: []string{`kv-tokens "-1": want a whole number of at least 0`}},
		{name: "bool", specs: []string{"prefix-cache=maybe"}, err: []string{`prefix-cache "maybe": want true or false`}},
		{name: "duplicate value", specs: []string{"max-batch=64,064"}, err: []string{"max-batch 64 is listed twice"}},
		{name: "key twice", specs: []string{"max-batch=64", "sim-max-batch=128"}, err: []string{"max-batch is given twice"}},
		{name: "every problem at once", specs: []string{"scheduler=lifo", "max-batch=x"}, err: []string{"lifo", `max-batch "x"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := harness.ParseWhatIf(tc.specs)
			if len(tc.err) > 0 {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				lines := strings.Split(err.Error(), "\n")
				if len(lines) != len(tc.err) {
					t.Fatalf("error %q: %d lines, want %d", err, len(lines), len(tc.err))
				}
				for i, w := range tc.err {
					if !strings.Contains(lines[i], w) {
						t.Errorf("line %q, want %q", lines[i], w)
					}
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestVariants(t *testing.T) {
	dims := []harness.WhatIfDim{{Key: "scheduler", Values: []string{"continuous", "chunked-prefill"}}, {Key: "max-batch", Values: []string{"64", "256"}}}
	vs, err := harness.Variants(dims)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	want := []string{"scheduler=continuous,max-batch=64", "scheduler=continuous,max-batch=256",
		"scheduler=chunked-prefill,max-batch=64", "scheduler=chunked-prefill,max-batch=256"}
	if !slices.Equal(names, want) {
		t.Errorf("names %q, want %q (the first the baseline)", names, want)
	}
	p := vs[2].Apply(profiles.Default())
	if p.SimScheduler != "chunked-prefill" || p.SimMaxBatch != 64 {
		t.Errorf("applied %s: scheduler %q, max-batch %d", vs[2].Name, p.SimScheduler, p.SimMaxBatch)
	}
	q := harness.Variant{Settings: []harness.VariantSetting{{Key: "kv-tokens", Value: "5000"}, {Key: "max-step-tokens", Value: "256"}, {Key: "prefix-cache", Value: "true"}}}.Apply(profiles.Default())
	if q.SimKVTokens != 5000 || q.SimMaxStepTokens != 256 || !q.SimPrefixCache {
		t.Errorf("applied %+v", q)
	}

	for _, tc := range []struct {
		sizes []int
		err   string
	}{
		{[]int{16}, ""},
		{[]int{4, 4}, ""},
		{[]int{5, 4}, "--what-if: 5 scheduler × 4 max-batch make 20 variants, each a whole sweep; give at most 16"},
		{[]int{3, 3, 2}, "3 scheduler × 3 max-batch × 2 max-step-tokens make 18 variants"},
		{nil, "give at least one"},
	} {
		var dims []harness.WhatIfDim
		for i, n := range tc.sizes {
			d := harness.WhatIfDim{Key: harness.WhatIfKeys()[i]}
			for j := range n {
				d.Values = append(d.Values, strconv.Itoa(j+1))
			}
			dims = append(dims, d)
		}
		vs, err := harness.Variants(dims)
		switch {
		case tc.err == "" && (err != nil || len(vs) != product(tc.sizes)):
			t.Errorf("%v: %d variants, %v", tc.sizes, len(vs), err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: error %v, want %q", tc.sizes, err, tc.err)
		}
	}
}

func product(ns []int) int {
	p := 1
	for _, n := range ns {
		p *= n
	}
	return p
}

// FuzzParseWhatIf feeds --what-if specs, one per line: a spec is accepted
// or refused with one line per problem, never a panic; what is accepted
// parses again to the same dimensions, and its variants have distinct
// names that are safe as directory names.
func FuzzParseWhatIf(f *testing.F) {
	for _, s := range []string{
		"scheduler=continuous,chunked-prefill,priority",
		"scheduler=continuous\nmax-batch=64,256",
		"sim-max-step-tokens=256,512\nkv-tokens=0,100000\nprefix-cache=true,false",
		"scheduler=lifo",
		"max-batch=,",
		"=",
		"scheduler=static,static",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		specs := strings.Split(in, "\n")
		dims, err := harness.ParseWhatIf(specs)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "--what-if ") {
					t.Fatalf("error line %q does not name its --what-if", line)
				}
			}
			return
		}
		var again []string
		for _, d := range dims {
			if !slices.Contains(harness.WhatIfKeys(), d.Key) || len(d.Values) == 0 {
				t.Fatalf("accepted %+v", d)
			}
			again = append(again, d.Key+"="+strings.Join(d.Values, ","))
		}
		dims2, err := harness.ParseWhatIf(again)
		if err != nil || !reflect.DeepEqual(dims, dims2) {
			t.Fatalf("%q parsed to %v, which parses again to %v, %v", in, dims, dims2, err)
		}
		vs, err := harness.Variants(dims)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, v := range vs {
			if seen[v.Name] || strings.ContainsAny(v.Name, "/\\ \n\x00") || v.Name == "" {
				t.Fatalf("variant name %q (duplicate or not a safe directory name)", v.Name)
			}
			seen[v.Name] = true
			v.Apply(profiles.Default())
		}
	})
}

// TestWhatIfInterrupted: a what-if cut short after its first variant
// keeps that variant's sweep and says so in whatif.json.
func TestWhatIfInterrupted(t *testing.T) {
	p := sweepProfile(t)
	p.Out = filepath.Join(t.TempDir(), "whatif")
	vs, err := harness.Variants([]harness.WhatIfDim{{Key: "scheduler", Values: []string{"continuous", "fcfs"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logf := func(format string, a ...any) {
		if strings.HasPrefix(fmt.Sprintf(format, a...), "what-if 2/2") {
			cancel() // as a Ctrl-C between the variants
		}
	}
	res, err := harness.WhatIf(ctx, p, harness.SweepOptions{Levels: []float64{10}, StageDuration: 500 * time.Millisecond}, vs, harness.WithLog(logf))
	if err == nil || !strings.Contains(err.Error(), "what-if interrupted after 1 of 2 variants") {
		t.Fatalf("error %v", err)
	}
	ran, sweeps := res.Ran()
	if len(ran) != 1 || ran[0].Name != "scheduler=continuous" || len(sweeps[0].Stages) != 1 {
		t.Fatalf("ran %+v", ran)
	}
	if _, err := analysis.LoadSweep(filepath.Join(p.Out, "scheduler=continuous")); err != nil {
		t.Errorf("the finished variant's sweep: %v", err)
	}
	var idx harness.WhatIfIndex
	b, _ := os.ReadFile(filepath.Join(p.Out, harness.WhatIfFile))
	if err := json.Unmarshal(b, &idx); err != nil || idx.Done != 1 || !idx.Interrupted || idx.CostModel != "h100-llama8b" {
		t.Errorf("whatif.json %+v, %v", idx, err)
	}
}

// TestWhatIfConfigErrors: a what-if that cannot run is a *ConfigError
// before anything is written.
func TestWhatIfConfigErrors(t *testing.T) {
	vs, _ := harness.Variants([]harness.WhatIfDim{{Key: "max-batch", Values: []string{"8", "16"}}})
	for _, tc := range []struct {
		name string
		edit func(*profiles.Profile)
		want string
	}{
		{"target", func(p *profiles.Profile) { p.Target = "http://127.0.0.1:1" }, "what-if: varies the built-in simulator"},
		{"shard", func(p *profiles.Profile) { p.Shard = "0/2" }, "drop --shard"},
		{"fixed engine", func(p *profiles.Profile) { p.SimTTFT = time.Millisecond }, "what-if max-batch=8: the simulator would run the fixed scheduler"},
		{"bad sweep", func(p *profiles.Profile) { p.Trace = "t.csv" }, "what-if max-batch=8: trace:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := sweepProfile(t)
			p.Out = filepath.Join(t.TempDir(), "whatif")
			tc.edit(&p)
			_, err := harness.WhatIf(context.Background(), p, harness.SweepOptions{Levels: []float64{10}, StageDuration: time.Second}, vs)
			var ce *harness.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a ConfigError with %q", err, tc.want)
			}
			if _, err := os.Stat(p.Out); err == nil {
				t.Errorf("%s was written", p.Out)
			}
		})
	}
}
