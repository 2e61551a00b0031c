package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Failure is one group of failed requests whose error messages read the
// same once numbers, ids and addresses are set aside (a 404 for request
// 17 and one for request 18 are one group; a 404 and a 401 are two).
type Failure struct {
	Kind string `json:"kind"`
	// Message is an example of the group's messages as the server or
	// client gave them (whitespace folded, clipped): the least, so one set
	// of records gives one summary whatever their order.
	Message string `json:"message"`
	Count   int64  `json:"count"`
	// Varied is true when the group's messages differ in their numbers or
	// ids, so Message is an example.
	Varied bool `json:"varied,omitempty"`
	// key orders groups of equal count.
	key string
}

// Failures says why requests failed: the most common messages, most
// common first.
type Failures struct {
	// URL is where the run sent its requests (empty in a summary rebuilt
	// from records alone).
	URL string    `json:"url,omitempty"`
	Top []Failure `json:"top"`
	// Groups counts the distinct groups; Other counts the failures in
	// groups beyond Top.
	Groups int   `json:"groups"`
	Other  int64 `json:"other,omitempty"`
}

// TopFailures is how many groups a summary lists.
const TopFailures = 5

// Bounds on what the failure groups hold, so a run whose every request
// fails with a new message keeps flat memory.
const (
	maxFailureGroups  = 256
	maxFailureMessage = 300
	maxFailureKey     = 512
)

// failureSet groups failure messages as records arrive.
type failureSet struct {
	groups   map[string]*Failure
	overflow int64
}

func (f *failureSet) add(kind, msg string) {
	if f.groups == nil {
		f.groups = map[string]*Failure{}
	}
	folded := foldSpace(msg)
	key := kind + "\x00" + normalizeMessage(folded)
	if g, ok := f.groups[key]; ok {
		g.Count++
		// The example is the group's least message, so the summary does
		// not depend on the order records arrive in.
		if m := clipRunes(folded, maxFailureMessage); m != g.Message {
			g.Varied = true
			g.Message = min(g.Message, m)
		}
		return
	}
	if len(f.groups) >= maxFailureGroups {
		f.overflow++
		return
	}
	f.groups[key] = &Failure{Kind: kind, Message: clipRunes(folded, maxFailureMessage), Count: 1, key: key}
}

// summary returns the most common groups, or nil when nothing failed.
func (f *failureSet) summary() *Failures {
	if len(f.groups) == 0 {
		return nil
	}
	all := make([]Failure, 0, len(f.groups))
	for _, g := range f.groups {
		all = append(all, *g)
	}
	slices.SortFunc(all, func(a, b Failure) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	out := &Failures{Groups: len(all), Other: f.overflow}
	if f.overflow > 0 {
		out.Groups++
	}
	n := min(len(all), TopFailures)
	out.Top = all[:n:n]
	for _, g := range all[n:] {
		out.Other += g.Count
	}
	return out
}

// foldSpace turns runs of white space (a multi-line server body) into one
// space.
func foldSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clipRunes cuts s to at most n bytes on a rune boundary, marking the cut.
func clipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// normalizeMessage is the grouping key of a failure message: every run of
// digits becomes "#" and every word that mixes letters and digits and is
// long enough to be an id (chatcmpl-4f9a…, a UUID, a model name with a
// version) becomes "<id>", except the status of a leading "HTTP 404", so
// one status with different request ids is one group and different
// statuses stay apart.
func normalizeMessage(s string) string {
	var b strings.Builder
	rest := s
	if head, tail, ok := strings.Cut(s, ":"); ok && isHTTPStatus(head) {
		b.WriteString(head)
		b.WriteByte(':')
		rest = tail
	}
	for len(rest) > 0 && b.Len() < maxFailureKey {
		r, size := utf8.DecodeRuneInString(rest)
		if !isWordRune(r) {
			b.WriteRune(r)
			rest = rest[size:]
			continue
		}
		end := strings.IndexFunc(rest, func(r rune) bool { return !isWordRune(r) })
		if end < 0 {
			end = len(rest)
		}
		writeWord(&b, rest[:end])
		rest = rest[end:]
	}
	return b.String()
}

// writeWord writes one word of a message in its grouping form.
func writeWord(b *strings.Builder, w string) {
	digits := strings.IndexFunc(w, unicode.IsDigit) >= 0
	letters := strings.IndexFunc(w, unicode.IsLetter) >= 0
	if digits && letters && len(w) >= 6 {
		b.WriteString("<id>")
		return
	}
	inDigits := false
	for _, r := range w {
		if unicode.IsDigit(r) {
			if !inDigits {
				b.WriteByte('#')
			}
			inDigits = true
			continue
		}
		inDigits = false
		b.WriteRune(r)
	}
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_'
}

// isHTTPStatus reports whether s is "HTTP 404" (the client's prefix of a
// non-2xx reply).
func isHTTPStatus(s string) bool {
	code, ok := strings.CutPrefix(s, "HTTP ")
	if !ok || len(code) != 3 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// httpStatus returns the status of a message that starts "HTTP 404:", or 0.
func httpStatus(msg string) int {
	head, _, ok := strings.Cut(msg, ":")
	if !ok || !isHTTPStatus(head) {
		return 0
	}
	var code int
	fmt.Sscanf(head, "HTTP %d", &code)
	return code
}

// FailureHint suggests what to check for a group of failures sent to url,
// or "" when the message says it already.
func FailureHint(f Failure, url string) string {
	status := httpStatus(f.Message)
	switch {
	case strings.Contains(url, "/v1/v1/"):
		return "the URL repeats /v1: give --target without the /v1 (streamgauge adds the API's path) or fix --endpoint"
	case status == 401 || status == 403:
		return "the server refused the credentials: check --api-key-env and --header"
	case status == 404:
		return "the server has no such path or model: check --target, --api, --endpoint and --model"
	case status == 405:
		return "the path does not take POST: check --api and --endpoint"
	case status == 400 || status == 422:
		return "the server rejected the request: check --api, --model, and the token lengths against the model's context"
	case f.Kind == "http_429":
		return "the server is limiting the rate: lower --rate or raise the server's limits"
	case f.Kind == "connect":
		return "is the server running, and is --target right?"
	}
	return ""
}

// Line is the group in one line: "12 × http_4xx: HTTP 404: …".
func (f Failure) Line() string {
	s := fmt.Sprintf("%d × %s: %s", f.Count, f.Kind, f.Message)
	if f.Varied {
		s += " (and similar)"
	}
	return s
}
