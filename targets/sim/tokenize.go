package sim

import (
	"unicode/utf8"
)

// TokenizerName is the name of the simulator's tokenizer, as its tokenize
// endpoint reports it.
const TokenizerName = "sim-chunk8"

// chunkLetters is how many letters one token of a letter run holds.
const chunkLetters = 8

// The simulator counts prompts with its own tokenizer, deliberately not one
// of the client's (cl100k_base, o200k_base), so that a test can tell a
// client that counts prompts on the server (--tokenizer server) from one that
// counts them locally. It is deterministic, allocation-free and needs no
// vocabulary:
//
//   - a run of ASCII letters, with the one space before it, is cut into
//     tokens of chunkLetters letters (the first carries the space): " the"
//     is one token, " inference" two (" inferenc", "e");
//   - a run of ASCII digits is cut into tokens of up to 3 digits;
//   - every other character (a space not followed by a letter, a newline,
//     punctuation, any non-ASCII rune) is one token.
//
// Prompts of common English words come out at about the token counts of
// cl100k_base; prompts made of cl100k's longer vocabulary words (what the
// client builds) come out about 20% longer.

// eachToken calls f with the byte offsets [start, end) of every token of
// text, in order.
func eachToken(text string, f func(start, end int)) {
	i := 0
	for i < len(text) {
		start := i
		c := text[i]
		if c == ' ' && i+1 < len(text) && isLetter(text[i+1]) {
			i++ // the space goes with the letters
			c = text[i]
		}
		switch {
		case isLetter(c):
			n := 0
			for i < len(text) && isLetter(text[i]) {
				if n == chunkLetters {
					f(start, i)
					start, n = i, 0
				}
				i++
				n++
			}
			f(start, i)
		case isDigit(c):
			n := 0
			for i < len(text) && isDigit(text[i]) {
				if n == 3 {
					f(start, i)
					start, n = i, 0
				}
				i++
				n++
			}
			f(start, i)
		case c < utf8.RuneSelf:
			i++
			f(start, i)
		default:
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			f(start, i)
		}
	}
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// CountTokens returns the number of tokens of text under the simulator's
// tokenizer (TokenizerName).
func CountTokens(text string) int {
	n := 0
	eachToken(text, func(int, int) { n++ })
	return n
}

// tokenID derives a stable vocabulary id from a token's text (FNV-1a).
func tokenID(piece string) int {
	h := uint32(2166136261)
	for i := 0; i < len(piece); i++ {
		h ^= uint32(piece[i])
		h *= 16777619
	}
	return 3 + int(h%(simVocab-3))
}

// simVocab is the size of the simulator's vocabulary, as ids go.
const simVocab = 64000
