package loadgen

import (
	"fmt"
	"hash/fnv"

	"github.com/streamgauge/streamgauge/targets"
)

// Marker is the unique marker --unique-prompts puts at the very start of
// request (or session) i's prompt: 16 hex digits in brackets and a line
// break, "[7f3a9c01d2e4b5a6]\n". The digits are a bijective mix of i and
// the mixed nonce, so within a run no two markers are equal and they differ
// from their first digit on (a prefix cache cannot share even a block of
// them); a different nonce per run (the harness draws one from the clock)
// keeps a warm server from matching a previous run's prompts, and two
// nonces give equal markers only for requests about 2^63 apart. The line break ends
// the marker's last pre-token, so the marker's tokens add to the prompt's.
func Marker(nonce, i uint64) string {
	return fmt.Sprintf("[%016x]\n", mix64(mix64(nonce)^i))
}

// mix64 is splitmix64's finaliser: a bijection on 64-bit values.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// PromptHash is the 64-bit FNV-1a hash of everything a request sends as its
// prompt (each message's role and content, or the prompt text), 0 for a
// request with no prompt. Records carry it so a summary can tell how many
// requests repeated an earlier prompt.
func PromptHash(req *targets.Request) uint64 {
	h := fnv.New64a()
	if len(req.Messages) > 0 {
		for _, m := range req.Messages {
			h.Write([]byte(m.Role))
			h.Write([]byte{0})
			h.Write([]byte(m.Content))
			h.Write([]byte{0})
		}
		return h.Sum64()
	}
	if req.Prompt == "" {
		return 0
	}
	h.Write([]byte(req.Prompt))
	return h.Sum64()
}
