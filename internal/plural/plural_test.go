package plural_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/internal/plural"
)

func TestCount(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{plural.Count(0, "level"), "0 levels"},
		{plural.Count(1, "level"), "1 level"},
		{plural.Count(2, "SLO"), "2 SLOs"},
		{plural.Count(int64(1), "request"), "1 request"},
		{plural.Count(uint64(7), "request"), "7 requests"},
		{plural.Count(uint64(1<<64-1), "request"), "18446744073709551615 requests"},
		{plural.Count(-2, "level"), "-2 levels"},
		{plural.Count(1, "match", "matches"), "1 match"},
		{plural.Count(3, "match", "matches"), "3 matches"},
		{plural.Noun(1, "shard"), "shard"},
		{plural.Noun(-1, "shard"), "shards"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
