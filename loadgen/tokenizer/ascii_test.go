package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// pieces returns the pre-tokens of text by the ASCII split and by the
// pattern.
func pieces(b *bpe, text string) (ascii, pattern []string) {
	b.ascii(text, func(p string) { ascii = append(ascii, p) })
	b.splitPattern(text, func(p string) { pattern = append(pattern, p) })
	return ascii, pattern
}

// TestASCIISplitMatchesPattern compares the one-pass split with the
// regexp2 pattern on random ASCII text drawn from alphabets that stress
// each alternative: contractions, case changes, digit runs, whitespace
// before words and line breaks, runs of "other".
func TestASCIISplitMatchesPattern(t *testing.T) {
	all := make([]byte, 128)
	for i := range all {
		all[i] = byte(i)
	}
	alphabets := []string{
		string(all),
		"aA'sStTrReEvVlLmMdD ",
		"aZ 09\t\n\r\v\f!'",
		" \n\r\t\v\fx",
		"Ab1 ",
		"abcXYZ'/.,-_ \n",
		"0123456789 .,",
		" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\r\n",
		"{}[]\":,0123456789abcdefABCDEF+/= ",
	}
	r := rand.New(rand.NewPCG(14, 5))
	for _, name := range Names() {
		b := loadBPE(t, name)
		for i := range 20000 {
			alpha := alphabets[i%len(alphabets)]
			n := r.IntN(40)
			var sb strings.Builder
			for range n {
				sb.WriteByte(alpha[r.IntN(len(alpha))])
			}
			text := sb.String()
			if a, p := pieces(b, text); !slices.Equal(a, p) {
				t.Fatalf("%s: split of %q\nascii   %q\npattern %q", name, text, a, p)
			}
		}
	}
}

// FuzzASCIISplit holds the one-pass split to the pattern on any ASCII
// text (bytes over 0x7f are masked off).
func FuzzASCIISplit(f *testing.F) {
	for _, s := range []string{"I'm here", "HELLO'S world", "  x\n\n y", "a1234b", "\t\v\f !?\r\n", "{\"a\":[1,2]}", "iPhone McDONALD'll"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		bs := []byte(text)
		for i := range bs {
			bs[i] &= 0x7f
		}
		text = string(bs)
		for _, name := range Names() {
			b := loadBPE(t, name)
			if a, p := pieces(b, text); !slices.Equal(a, p) {
				t.Fatalf("%s: split of %q\nascii   %q\npattern %q", name, text, a, p)
			}
		}
	})
}
