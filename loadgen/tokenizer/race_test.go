//go:build race

package tokenizer_test

// raceEnabled is true under the race detector, which makes the merge many
// times slower; longRunSize, the length of the runs TestLongRunsEnd counts,
// is then 128 KiB (still a minute of tiktoken-go's quadratic merge) instead
// of 1 MiB.
const (
	longRunSize = 128 << 10
	raceEnabled = true
)
