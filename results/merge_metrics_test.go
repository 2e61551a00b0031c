package results_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

// TestMergeServerMetrics (issue 20 item 3): merge puts every shard's
// server_metrics.jsonl on the merged run's time axis, labels each sample
// with its shard, keeps time order, and says when the shards scraped
// different servers.
func TestMergeServerMetrics(t *testing.T) {
	type sample struct {
		t     time.Duration
		shard string
	}
	tests := []struct {
		name   string
		scrape string
		// target is shard i's target URL (run.json).
		target func(i int) string
		// skew delays shard i's start.
		skew func(i int) time.Duration
		// lines are shard i's server_metrics.jsonl lines (nil: no file).
		lines func(i int) []string
		want  []sample
		// warn is a warning that must be there ("" none about metrics).
		warn   string
		noFile bool
	}{
		{
			name: "one server, one start", scrape: "http://10.0.0.9:8000/metrics",
			lines: func(i int) []string {
				return []string{sampleLine(0, i), sampleLine(time.Second+time.Duration(i)*time.Millisecond, i)}
			},
			want: []sample{{0, "0/4"}, {0, "1/4"}, {0, "2/4"}, {0, "3/4"},
				{time.Second, "0/4"}, {time.Second + time.Millisecond, "1/4"}, {time.Second + 2*time.Millisecond, "2/4"}, {time.Second + 3*time.Millisecond, "3/4"}},
		},
		{
			name: "a shard started later", scrape: "http://10.0.0.9:8000/metrics",
			skew: func(i int) time.Duration { return time.Duration(i) * 300 * time.Millisecond },
			lines: func(i int) []string {
				return []string{sampleLine(0, i), sampleLine(time.Second, i)}
			},
			want: []sample{{0, "0/4"}, {300 * time.Millisecond, "1/4"}, {600 * time.Millisecond, "2/4"}, {900 * time.Millisecond, "3/4"},
				{time.Second, "0/4"}, {1300 * time.Millisecond, "1/4"}, {1600 * time.Millisecond, "2/4"}, {1900 * time.Millisecond, "3/4"}},
		},
		{
			name: "each worker its own simulator", scrape: "sim",
			target: func(i int) string { return "http://127.0.0.1:" + strconv.Itoa(9000+i) },
			lines:  func(i int) []string { return []string{sampleLine(time.Duration(3-i)*time.Millisecond, i)} },
			want:   []sample{{0, "3/4"}, {time.Millisecond, "2/4"}, {2 * time.Millisecond, "1/4"}, {3 * time.Millisecond, "0/4"}},
			warn:   "the shards scraped different servers (shard 0/4 http://127.0.0.1:9000/metrics, shard 1/4 http://127.0.0.1:9001/metrics, shard 2/4 http://127.0.0.1:9002/metrics, shard 3/4 http://127.0.0.1:9003/metrics)",
		},
		{
			name: "one worker scraped", scrape: "http://10.0.0.9:8000/metrics",
			lines: func(i int) []string {
				if i > 0 {
					return nil
				}
				return []string{sampleLine(0, i), sampleLine(time.Second, i)}
			},
			want: []sample{{0, "0/4"}, {time.Second, "0/4"}},
			warn: "kept no server_metrics.jsonl",
		},
		{
			name: "malformed and torn lines", scrape: "http://10.0.0.9:8000/metrics",
			lines: func(i int) []string {
				if i != 1 {
					return []string{sampleLine(0, i)}
				}
				return []string{sampleLine(0, i), `{"t_ns":"x"}`, `{"name":"q","value":1}`, `{"t_ns":5,"name":"q","val`}
			},
			want: []sample{{0, "0/4"}, {0, "1/4"}, {0, "2/4"}, {0, "3/4"}},
			warn: "3 malformed lines of server_metrics.jsonl left out",
		},
		{name: "no scrape", noFile: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dirs := fourShards(t, func(i int, sp *shardSpec) {
				if tc.scrape != "" {
					sp.profile["scrape-metrics"] = tc.scrape
				}
				if tc.skew != nil {
					sp.start = sp.start.Add(tc.skew(i))
				}
			})
			for i, d := range dirs {
				if tc.target != nil {
					var info map[string]any
					if err := results.ReadJSON(d, results.RunFile, &info); err != nil {
						t.Fatal(err)
					}
					info["target"] = tc.target(i)
					if err := results.WriteJSON(d, results.RunFile, info); err != nil {
						t.Fatal(err)
					}
				}
				if tc.lines == nil {
					continue
				}
				if ls := tc.lines(i); ls != nil {
					if err := os.WriteFile(filepath.Join(d, results.ServerMetricsFile), []byte(strings.Join(ls, "\n")), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			dst := filepath.Join(t.TempDir(), "merged")
			res, err := results.Merge(dst, dirs)
			if err != nil {
				t.Fatal(err)
			}
			var metricsWarnings []string
			for _, w := range res.Warnings {
				if strings.Contains(w, "scraped") || strings.Contains(w, results.ServerMetricsFile) {
					metricsWarnings = append(metricsWarnings, w)
				}
			}
			if tc.warn == "" && len(metricsWarnings) > 0 {
				t.Errorf("unexpected warnings %q", metricsWarnings)
			}
			if tc.warn != "" && (len(metricsWarnings) != 1 || !strings.Contains(metricsWarnings[0], tc.warn)) {
				t.Errorf("warnings %q, want one with %q", metricsWarnings, tc.warn)
			}
			f, err := os.Open(filepath.Join(dst, results.ServerMetricsFile))
			if tc.noFile {
				if err == nil {
					f.Close()
					t.Error("a merge of shards that scraped nothing wrote server_metrics.jsonl")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got []sample
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var s results.ServerSample
				if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
					t.Fatalf("merged line %q: %v", sc.Text(), err)
				}
				if want := "queue_" + s.Shard[:1]; s.Name != want || s.Value != float64(s.Shard[0]-'0') {
					t.Errorf("sample %+v: want name %s and the shard's value", s, want)
				}
				got = append(got, sample{time.Duration(s.TNS), s.Shard})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("merged samples (t, shard):\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// sampleLine is shard i's sample at offset at: name queue_i, value i.
func sampleLine(at time.Duration, i int) string {
	return fmt.Sprintf(`{"t_ns":%d,"name":"queue_%d","value":%d}`, int64(at), i, i)
}
