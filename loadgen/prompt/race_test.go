//go:build race

package prompt_test

// raceEnabled is true when tests run under the race detector, which makes
// tiktoken-go's encoder about ten times slower.
const raceEnabled = true
