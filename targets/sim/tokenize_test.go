package sim

import (
	"strings"
	"testing"
)

func TestEachToken(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"", nil},
		{"the", []string{"the"}},
		{" the cat", []string{" the", " cat"}},
		{"inference", []string{"inferenc", "e"}},
		{" streaming inference", []string{" streamin", "g", " inferenc", "e"}},
		{"abcdefghabcdefghab", []string{"abcdefgh", "abcdefgh", "ab"}},
		{"12345678", []string{"123", "456", "78"}},
		{"a1", []string{"a", "1"}},
		{"Hello, world!\n", []string{"Hello", ",", " world", "!", "\n"}},
		{"two  spaces", []string{"two", " ", " spaces"}},
		{" 42", []string{" ", "42"}},
		{"héllo", []string{"h", "é", "llo"}},
		{"日本", []string{"日", "本"}},
		{"\xff\xfe", []string{"\xff", "\xfe"}},
	}
	for _, tt := range tests {
		var got []string
		eachToken(tt.text, func(start, end int) { got = append(got, tt.text[start:end]) })
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("eachToken(%q) = %q, want %q", tt.text, got, tt.want)
		}
		if n := CountTokens(tt.text); n != len(tt.want) {
			t.Errorf("CountTokens(%q) = %d, want %d", tt.text, n, len(tt.want))
		}
	}
}

// FuzzEachToken checks that the tokens tile the text exactly, each
// non-empty, so counts and offsets are always consistent.
func FuzzEachToken(f *testing.F) {
	for _, s := range []string{"", "hello world", " a\n\tb 123456", "日本語 text", "\xff\x00abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		pos := 0
		eachToken(text, func(start, end int) {
			if start != pos || end <= start || end > len(text) {
				t.Fatalf("token [%d,%d) after offset %d of %q", start, end, pos, text)
			}
			pos = end
		})
		if pos != len(text) {
			t.Fatalf("tokens end at %d, text has %d bytes", pos, len(text))
		}
	})
}
