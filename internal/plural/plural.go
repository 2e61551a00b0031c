// Package plural writes counted nouns in English: "1 level", "3 levels",
// "0 SLOs". Every message that counts something goes through it, so none
// reads "1 levels" or "all 1 SLOs".
package plural

import "strconv"

// Integer is any integer type a count comes in.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// Count is n followed by noun, made plural unless n is 1. The plural is
// noun+"s", or the one given (Count(n, "match", "matches")).
func Count[T Integer](n T, noun string, many ...string) string {
	if n < 0 {
		return strconv.FormatInt(int64(n), 10) + " " + Noun(n, noun, many...)
	}
	// Unsigned, so a uint64 count past MaxInt64 is not printed negative.
	return strconv.FormatUint(uint64(n), 10) + " " + Noun(n, noun, many...)
}

// Noun is noun, or its plural unless n is 1.
func Noun[T Integer](n T, noun string, many ...string) string {
	if n == 1 {
		return noun
	}
	if len(many) > 0 {
		return many[0]
	}
	return noun + "s"
}
