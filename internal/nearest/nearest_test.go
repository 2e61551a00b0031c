package nearest

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"ttft", "ttft", 0},
		{"ttft", "tttf", 2}, {"rate", "rates", 1}, {"kitten", "sitting", 3}, {"itl", "icl", 1},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestName(t *testing.T) {
	names := []string{"ttft", "itl", "icl", "e2e", "max-concurrency"}
	for _, tt := range []struct {
		s      string
		within int
		want   string
	}{
		{"ttfb", 2, "ttft"},
		{"itl", 2, "itl"},
		{"ilt", 2, "itl"}, // two edits; itl comes before icl (also two)
		{"e2", 1, "e2e"},
		{"max-concurency", 2, "max-concurrency"},
		{"latency", 2, ""},
		{"xyz", 3, "itl"}, // 3 edits reach the first 3-letter name
	} {
		if got := Name(tt.s, names, tt.within); got != tt.want {
			t.Errorf("Name(%q, %d) = %q, want %q", tt.s, tt.within, got, tt.want)
		}
	}
}
