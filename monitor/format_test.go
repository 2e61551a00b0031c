package monitor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/monitor"
)

func TestSnapshotText(t *testing.T) {
	tests := []struct {
		name  string
		s     monitor.Snapshot
		lines []string
		line  string
	}{
		{
			name:  "not started",
			s:     monitor.Snapshot{},
			lines: []string{"streamgauge  starting..."},
			line:  "starting",
		},
		{
			name:  "waiting for --start-at",
			s:     monitor.Snapshot{Started: true, Elapsed: -1500 * time.Millisecond, Plan: monitor.Plan{Duration: time.Minute}},
			lines: []string{"streamgauge  starts in 2s   sent 0   in flight 0   ok 0   failed 0", "  so far: ttft -, 0.0 output tok/s"},
			line:  "starts in 2s: sent 0, in flight 0, ok 0, failed 0; so far: ttft -, 0.0 output tok/s",
		},
		{
			name: "duration, first seconds",
			s: monitor.Snapshot{Started: true, Elapsed: 2500 * time.Millisecond, Plan: monitor.Plan{Duration: time.Minute},
				Sent: 50, InFlight: 4, OK: 45, Failed: 1, Window: 2500 * time.Millisecond, TTFTCount: 45, TTFTP50MS: 42.123, TTFTP99MS: 187.6, OutputTokensPerS: 12345.4},
			lines: []string{
				"streamgauge  elapsed 2s/1m00s (58s left)   sent 50   in flight 4   ok 45   failed 1",
				"  so far: ttft p50 42.1 ms, p99 188 ms, 12,345 output tok/s",
			},
			line: "elapsed 2s/1m00s (58s left): sent 50, in flight 4, ok 45, failed 1; so far: ttft p50 42.1 ms, p99 188 ms, 12,345 output tok/s",
		},
		{
			name: "request budget, draining, canceled",
			s: monitor.Snapshot{Started: true, Elapsed: 75 * time.Second, Plan: monitor.Plan{Requests: 100},
				Sent: 100, InFlight: 3, OK: 90, Failed: 2, Canceled: 5, Window: 10 * time.Second, OutputTokensPerS: 7.25},
			lines: []string{
				"streamgauge  elapsed 1m15s, 100 of 100 requests (draining)   sent 100   in flight 3   ok 90   failed 2   canceled 5",
				"  last 10s: ttft -, 7.2 output tok/s",
			},
			line: "elapsed 1m15s, 100 of 100 requests (draining): sent 100, in flight 3, ok 90, failed 2, canceled 5; last 10s: ttft -, 7.2 output tok/s",
		},
		{
			name: "request budget estimate",
			s: monitor.Snapshot{Started: true, Elapsed: 20 * time.Second, Plan: monitor.Plan{Requests: 300},
				Sent: 100, OK: 100, Window: 10 * time.Second, TTFTCount: 1, TTFTP50MS: 0.5, TTFTP99MS: 3.25, OutputTokensPerS: 1500},
			lines: []string{
				"streamgauge  elapsed 20s, 100 of 300 requests (40s left)   sent 100   in flight 0   ok 100   failed 0",
				"  last 10s: ttft p50 0.500 ms, p99 3.25 ms, 1,500 output tok/s",
			},
			line: "elapsed 20s, 100 of 300 requests (40s left): sent 100, in flight 0, ok 100, failed 0; last 10s: ttft p50 0.500 ms, p99 3.25 ms, 1,500 output tok/s",
		},
		{
			name: "ended",
			s:    monitor.Snapshot{Started: true, Ended: true, Elapsed: 3723 * time.Second, Plan: monitor.Plan{Duration: time.Hour}, Sent: 9, OK: 9, Window: 10 * time.Second},
			lines: []string{
				"streamgauge  elapsed 1h02m03s/1h00m00s (done)   sent 9   in flight 0   ok 9   failed 0",
				"  last 10s: ttft -, 0.0 output tok/s",
			},
			line: "elapsed 1h02m03s/1h00m00s (done): sent 9, in flight 0, ok 9, failed 0; last 10s: ttft -, 0.0 output tok/s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Lines(); strings.Join(got, "\n") != strings.Join(tt.lines, "\n") {
				t.Errorf("Lines:\n got %q\nwant %q", got, tt.lines)
			}
			if got := tt.s.Line(); got != tt.line {
				t.Errorf("Line:\n got %q\nwant %q", got, tt.line)
			}
		})
	}
}
