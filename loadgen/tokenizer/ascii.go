package tokenizer

// The pre-tokenizer patterns run in regexp2, a backtracking engine that
// costs about a microsecond and a dozen allocations per pre-token. For
// ASCII text (most streamed text, and all of base64, minified JSON and
// numbers) the functions below find the same pre-tokens in one pass with
// no allocation; TestASCIISplitMatchesPattern and FuzzASCIISplit hold them
// to the patterns. Each follows its pattern's alternatives in order, as the
// engine tries them, restricted to ASCII: letters are A-Z (upper) and a-z
// (lower), numbers 0-9, \s is \t \n \v \f \r and space, and everything
// else is "other" ([^\s\p{L}\p{N}]).

// isASCII reports whether s has no byte over 0x7f.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool { return isUpper(c) || isLower(c) }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isSpace(c byte) bool  { return c == ' ' || ('\t' <= c && c <= '\r') }
func isOther(c byte) bool  { return !isSpace(c) && !isLetter(c) && !isDigit(c) }

// prefixable reports whether c may be the optional leading
// [^\r\n\p{L}\p{N}] of a word.
func prefixable(c byte) bool { return c != '\r' && c != '\n' && !isLetter(c) && !isDigit(c) }

// contraction returns the length of (?i:'s|'t|'re|'ve|'m|'ll|'d) at the
// start of s, or 0.
func contraction(s string) int {
	if len(s) < 2 || s[0] != '\'' {
		return 0
	}
	switch s[1] | 0x20 {
	case 's', 't', 'm', 'd':
		return 2
	}
	if len(s) < 3 {
		return 0
	}
	a, b := s[1]|0x20, s[2]|0x20
	if (a == 'r' || a == 'v') && b == 'e' || a == 'l' && b == 'l' {
		return 3
	}
	return 0
}

// span returns the end of the run of bytes from i on that satisfy in.
func span(s string, i int, in func(byte) bool) int {
	for i < len(s) && in(s[i]) {
		i++
	}
	return i
}

// spaceEnd returns the end of the pre-token that starts with the space at
// i, by the three whitespace alternatives shared by both patterns:
// \s*[\r\n]+ | \s+(?!\S) | \s+.
func spaceEnd(s string, i int) int {
	j := span(s, i, isSpace)
	for k := j - 1; k >= i; k-- { // \s*[\r\n]+: up to the last line break
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1
		}
	}
	if j == len(s) || j-1 == i { // \s+(?!\S) takes it all at the end; \s+ a lone space
		return j
	}
	return j - 1 // \s+(?!\S): leave the last space to the word after it
}

// otherEnd returns the end of ` ?[^\s\p{L}\p{N}]+` followed by the run
// of bytes that satisfy tail, from i, whose first byte is a space followed
// by "other" or is "other" itself.
func otherEnd(s string, i int, tail func(byte) bool) int {
	if s[i] == ' ' {
		i++
	}
	return span(s, span(s, i, isOther), tail)
}

func isLineBreak(c byte) bool      { return c == '\r' || c == '\n' }
func isLineBreakSlash(c byte) bool { return c == '\r' || c == '\n' || c == '/' }

// splitCL100k splits ASCII text as cl100k_base's pattern does:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//	 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitCL100k(s string, f func(string)) {
	for i := 0; i < len(s); {
		c := s[i]
		var j int
		switch {
		case contraction(s[i:]) > 0:
			j = i + contraction(s[i:])
		case isLetter(c):
			j = span(s, i, isLetter)
		case prefixable(c) && i+1 < len(s) && isLetter(s[i+1]):
			j = span(s, i+1, isLetter)
		case isDigit(c):
			j = i + 1
			for j < len(s) && j < i+3 && isDigit(s[j]) {
				j++
			}
		case isOther(c) || (c == ' ' && i+1 < len(s) && isOther(s[i+1])):
			j = otherEnd(s, i, isLineBreak)
		default:
			j = spaceEnd(s, i)
		}
		f(s[i:j])
		i = j
	}
}

// splitO200k splits ASCII text as o200k_base's pattern does; in ASCII,
// [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] is A-Z and [\p{Ll}\p{Lm}\p{Lo}\p{M}] is
// a-z:
//
//	[^\r\n\p{L}\p{N}]?[A-Z]*[a-z]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//	[^\r\n\p{L}\p{N}]?[A-Z]+[a-z]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//	\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitO200k(s string, f func(string)) {
	for i := 0; i < len(s); {
		c := s[i]
		j := -1
		// The two word alternatives: an optional prefix, then upper then
		// lower case letters, at least one letter in all.
		start := i
		if prefixable(c) && i+1 < len(s) && isLetter(s[i+1]) {
			start = i + 1
		}
		if isLetter(s[start]) {
			u := span(s, start, isUpper)
			l := span(s, u, isLower)
			j = l + contraction(s[l:])
		}
		if j < 0 {
			switch {
			case isDigit(c):
				j = i + 1
				for j < len(s) && j < i+3 && isDigit(s[j]) {
					j++
				}
			case isOther(c) || (c == ' ' && i+1 < len(s) && isOther(s[i+1])):
				j = otherEnd(s, i, isLineBreakSlash)
			default:
				j = spaceEnd(s, i)
			}
		}
		f(s[i:j])
		i = j
	}
}
