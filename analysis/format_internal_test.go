package analysis

import "testing"

func TestFixed(t *testing.T) {
	tests := []struct {
		v    float64
		d    int
		want string
	}{
		{39.455, 2, "39.46"}, // binary 39.45499..., as summary.json shows it: 39.455
		{39.445, 2, "39.45"},
		{1.005, 2, "1.01"},
		{0.125, 2, "0.13"},
		{-0.125, 2, "-0.13"},
		{-0.001, 2, "0.00"}, // no "-0.00"
		{9.995, 2, "10.00"},
		{999.95, 1, "1000.0"},
		{0, 2, "0.00"},
		{12, 0, "12"},
		{2.5, 0, "3"},
		{1e21, 2, "1000000000000000000000.00"},
		{5e-324, 2, "0.00"},
	}
	for _, tc := range tests {
		if got := fixed(tc.v, tc.d); got != tc.want {
			t.Errorf("fixed(%v, %d) = %q, want %q", tc.v, tc.d, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    float64
		want string
	}{{312.44, "312.4"}, {0.67015, "0.6702"}, {12007, "12007"}, {500, "500"}, {0, "0"}, {-0.1702, "-0.1702"}, {99.995, "100"}} {
		if got := fnum(tc.v); got != tc.want {
			t.Errorf("fnum(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
