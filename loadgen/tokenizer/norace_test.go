//go:build !race

package tokenizer_test

// longRunSize is the length of the runs TestLongRunsEnd counts;
// raceEnabled is true under the race detector.
const (
	longRunSize = 1 << 20
	raceEnabled = false
)
