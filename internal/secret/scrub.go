package secret

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MinKnownLen is the shortest known value a Redactor searches free text
// for: shorter values ("1", "true", "blue") would match ordinary words.
// They are still masked wherever they are written as a header value.
const MinKnownLen = 6

// Redactor masks secrets in free text: the exact values it was made with
// (in the forms a server may quote them: raw, JSON-, URL- and
// HTML-escaped) and anything shaped like a credential. The zero value and
// a nil *Redactor mask credential shapes only. A Redactor is immutable and
// safe for concurrent use.
type Redactor struct {
	known *strings.Replacer
	forms []string          // every searched form, longest first
	masks map[string]string // form -> the mask of its value
}

// New returns a Redactor for the given secret values. Empty values and
// values shorter than MinKnownLen are left out of the exact search; an
// "Authorization"-style value ("Bearer TOKEN", "Basic B64") also adds the
// token, and the decoded user:password of Basic.
func New(values ...string) *Redactor {
	masks := map[string]string{} // variant -> mask of its value
	add := func(v, mask string) {
		if len(v) < MinKnownLen {
			return
		}
		if _, ok := masks[v]; !ok {
			masks[v] = mask
		}
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < MinKnownLen || isMasked(v) {
			continue
		}
		for _, part := range parts(v) {
			m := Mask(part)
			for _, form := range forms(part) {
				add(form, m)
			}
		}
	}
	if len(masks) == 0 {
		return &Redactor{}
	}
	olds := make([]string, 0, len(masks))
	for v := range masks {
		olds = append(olds, v)
	}
	// Longest first, so a value wins over a shorter one inside it.
	slices.SortFunc(olds, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(olds))
	for _, v := range olds {
		pairs = append(pairs, v, masks[v])
	}
	return &Redactor{known: strings.NewReplacer(pairs...), forms: olds, masks: masks}
}

// minCut is the shortest piece of a known value masked where text was cut
// short: shorter pieces would match ordinary words.
const minCut = 4

// maxCuts bounds the ellipses looked at in one text, so text made of
// ellipses costs no more than a message clipped a few times.
const maxCuts = 16

// ellipses mark where a message was clipped, or where a server elided
// the middle of a key it quotes ("sk-abcd****wxyz").
var ellipses = []string{"...", "…", "***"}

// maskCut masks the pieces of known values left where s was cut short in
// the middle of one (a server's body read up to a limit, a frame or an
// error quoted up to a length, a key quoted with its middle starred out):
// the start of a value at the end of s or just before an ellipsis, and the
// end of a value just after an ellipsis.
func (r *Redactor) maskCut(s string) string {
	var cuts []int // where text was cut, in increasing order
	for i := 0; i < len(s) && len(cuts) < 2*maxCuts; {
		j, n := -1, 0
		for _, e := range ellipses {
			if k := strings.Index(s[i:], e); k >= 0 && (j < 0 || i+k < j) {
				j, n = i+k, len(e)
			}
		}
		if j < 0 {
			break
		}
		for n < len(s)-j && (s[j+n] == '.' || s[j+n] == '*') && s[j+n] == s[j+n-1] {
			n++ // "....." and "*****" are one mark
		}
		cuts = append(cuts, j, j+n) // the text before the ellipsis ends at j, the text after starts at j+n
		i = j + n
	}
	var b strings.Builder
	last := 0
	emit := func(lo, hi int, mask string) {
		b.WriteString(s[last:lo])
		b.WriteString(mask)
		last = hi
	}
	for i := 0; i < len(cuts); i += 2 {
		end, start := cuts[i], cuts[i+1]
		if k, m := r.startAt(s[last:end]); k > 0 {
			emit(end-k, end, m)
		}
		if k, m := r.endAt(s[start:]); k > 0 {
			b.WriteString(s[last:start])
			last = start
			emit(start, start+k, m)
		}
	}
	if k, m := r.startAt(s[last:]); k > 0 {
		emit(len(s)-k, len(s), m)
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// startAt returns the length of the longest start of a known value (at
// least minCut) that text ends with, and that value's mask.
func (r *Redactor) startAt(text string) (int, string) {
	best, mask := 0, ""
	for _, f := range r.forms {
		for k := min(len(f)-1, len(text)); k >= minCut && k > best; k-- {
			if strings.HasSuffix(text, f[:k]) {
				best, mask = k, r.masks[f]
				break
			}
		}
	}
	return best, mask
}

// endAt returns the length of the longest end of a known value (at least
// minCut) that text starts with, and that value's mask.
func (r *Redactor) endAt(text string) (int, string) {
	best, mask := 0, ""
	for _, f := range r.forms {
		for k := min(len(f)-1, len(text)); k >= minCut && k > best; k-- {
			if strings.HasPrefix(text, f[len(f)-k:]) {
				best, mask = k, r.masks[f]
				break
			}
		}
	}
	return best, mask
}

// parts returns v and the pieces of it that may be quoted on their own: the
// token after an auth scheme and the decoded credentials of Basic.
func parts(v string) []string {
	out := []string{v}
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok {
		return out
	}
	tok = strings.TrimSpace(tok)
	out = append(out, tok)
	if strings.EqualFold(scheme, "basic") {
		if b, err := base64.StdEncoding.DecodeString(tok); err == nil && utf8.Valid(b) {
			out = append(out, string(b))
			if _, pass, ok := strings.Cut(string(b), ":"); ok {
				out = append(out, pass)
			}
		}
	}
	return out
}

// forms returns v as a server or a report may write it.
func forms(v string) []string {
	j, _ := json.Marshal(v)
	js := string(j[1 : len(j)-1])
	q := strconv.Quote(v) // Go's %q, as messages quote frames and headers
	return []string{v, js, strings.ReplaceAll(js, "/", `\/`), q[1 : len(q)-1], url.QueryEscape(v), url.PathEscape(v), html.EscapeString(v)}
}

// String returns s with every known value and credential shape masked,
// including the start of a known value where s was cut short (at its end,
// or before a trailing "...").
func (r *Redactor) String(s string) string {
	if r != nil && r.known != nil {
		s = r.maskCut(r.known.Replace(s))
	}
	return Scrub(s)
}

// Error returns err with its message masked as String masks text; it
// unwraps to err. A nil err stays nil.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := r.String(msg); clean != msg {
		return &maskedError{msg: clean, err: err}
	}
	return err
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// shape is a credential shape: where in a match the secret is (group) and
// whether a candidate really is one.
type shape struct {
	hints []string // lower-case words one of which every match holds
	re    *regexp.Regexp
	group int
	ok    func(v string) bool
}

// tokenChars is what an auth token is made of (RFC 6750 b64token, plus %).
const tokenChars = `[A-Za-z0-9._~+/=%-]`

// valueChars is a quoted value: anything up to a quote, a separator or a
// bracket.
const valueChars = `[^\s"'&,;<>{}\[\]()\\]`

// shapes are the credential shapes masked in free text. Each is compiled
// once; they are never changed.
var shapes = []shape{
	// Authorization: Bearer X, x-api-key=X, "cf-aig-authorization": "X",
	// password: X, Cookie: X (names that hold credentials, followed by
	// : or =, optionally quoted, optionally with an auth scheme).
	{[]string{"auth", "pass", "secret", "cookie", "credential", "key", "token", "signature"}, regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_-])(?:[A-Za-z0-9]+[-_])*(?:authorization|authentication|password|passwd|secret|cookie|credentials?|apikey|(?:api|access|secret|private|session|subscription)[-_]key|(?:[A-Za-z0-9]+[-_])(?:key|token|secret|signature))["']?\s*[:=]\s*["'\[]?(?:(?:bearer|basic|token|digest)\s+)?(` + valueChars + `+)`), 1, notMasked},
	// Query parameters: ?key=X&token=X&sig=X.
	{[]string{"key", "token", "sig", "auth", "code", "password"}, regexp.MustCompile(`(?i)[?&;](?:key|token|sig|signature|auth|code|apikey|api_key|access_token|password)=([^\s"'&#<>]+)`), 1, notMasked},
	// Bearer X / Basic X / Token X anywhere.
	{[]string{"bearer", "basic", "token", "digest"}, regexp.MustCompile(`(?i)\b(?:bearer|basic|token|digest)(?:\s+|%20|\+)(` + tokenChars + `{6,})`), 1, looksLikeToken},
	// URL userinfo: scheme://user:pass@host.
	{[]string{"@"}, regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://([^/\s@"'<>]+)@`), 1, notMasked},
	// Provider key shapes.
	{[]string{"sk-", "akia", "asia", "gh", "xox", "hf_", "aiza", "glpat-", "gsk_", "nvapi-", "pplx-", "r8_"}, regexp.MustCompile(`\b(sk-[A-Za-z0-9_-]{16,}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|hf_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{30,}|glpat-[A-Za-z0-9_-]{20,}|gsk_[A-Za-z0-9]{20,}|nvapi-[A-Za-z0-9_-]{20,}|pplx-[A-Za-z0-9]{20,}|r8_[A-Za-z0-9]{20,})`), 1, notMasked},
	// JSON Web Tokens.
	{[]string{"eyj"}, regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)`), 1, notMasked},
}

func notMasked(v string) bool { return !strings.HasPrefix(v, Prefix) && v != "[redacted]" }

// looksLikeToken keeps words after "Bearer"/"Token" in prose ("Bearer
// authentication required") and masks what looks like a credential: a
// digit in it, or 20 characters or more.
func looksLikeToken(v string) bool {
	if !notMasked(v) || v == "redacted" {
		return false
	}
	return len(v) >= 20 || strings.ContainsAny(v, "0123456789")
}

// Scrub returns s with every credential shape masked. It knows no values;
// a Redactor also masks the exact values it was given.
func Scrub(s string) string {
	if s == "" {
		return s
	}
	lower := strings.ToLower(s)
	for _, sh := range shapes {
		for _, h := range sh.hints {
			if strings.Contains(lower, h) {
				s = sh.apply(s)
				lower = strings.ToLower(s)
				break
			}
		}
	}
	return s
}

func (sh shape) apply(s string) string {
	idx := sh.re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		lo, hi := m[2*sh.group], m[2*sh.group+1]
		if lo < 0 {
			continue
		}
		v := s[lo:hi]
		if !sh.ok(v) || strings.HasPrefix(s[lo:], Prefix) {
			continue
		}
		b.WriteString(s[last:lo])
		b.WriteString(Mask(v))
		last = hi
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
