package prompt

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Continue returns n words, each with its leading space, to append to a
// prompt made by Build (or to another Continue): the concatenation encodes
// to exactly the sum of the parts' token counts, because every word is one
// token and a leading space never merges with the word before it. Draws
// come from r in order, so a shorter Continue with the same source is a
// prefix of a longer one. Continue(r, 0) returns ""; it panics if n < 0.
func (b *Builder) Continue(r *rand.Rand, n int) string {
	if n < 0 {
		panic(fmt.Sprintf("prompt: Continue with negative length %d", n))
	}
	if n == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(b.size(n))
	b.appendWords(&sb, r, n)
	return sb.String()
}
