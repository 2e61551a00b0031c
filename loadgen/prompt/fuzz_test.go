package prompt_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
)

// FuzzBuild checks that Build's text always encodes to exactly n tokens,
// n clamped into [1, 4096], with both built-in tokenizers.
func FuzzBuild(f *testing.F) {
	f.Add(uint64(0), 1)
	f.Add(uint64(1), 4096)
	f.Add(uint64(1<<63), -1)
	for _, name := range tokenizer.Names() {
		builder(f, name)
	}
	f.Fuzz(func(t *testing.T, seed uint64, n int) {
		n = int(uint(n)%4096) + 1
		for _, name := range tokenizer.Names() {
			b, tok := builder(t, name)
			text := b.Build(seeded(seed), n)
			if got := tok.Count(text); got != n {
				t.Fatalf("%s: Build(seed %d, %d) encodes to %d tokens: %.80q", name, seed, n, got, text)
			}
			if again := b.Build(seeded(seed), n); again != text {
				t.Fatalf("%s: Build(seed %d, %d) is not deterministic", name, seed, n)
			}
		}
	})
}
