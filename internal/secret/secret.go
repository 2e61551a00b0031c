// Package secret keeps credentials out of everything streamgauge writes:
// result files, reports, logs and error messages. It is the one place that
// decides what is shown.
//
// Header values are denied by default: a value is written in clear only
// when its header's name is on a short allow-list of harmless names
// (Harmless); any other value becomes Mask(value), "redacted:" and the
// first 8 hex digits of its SHA-256, so two runs with different values can
// still be told apart and equal values compare equal. URLs keep their
// scheme, host and path; their userinfo and every query value are masked.
//
// Free text (a server's error body, a Go net/http error, a log line) goes
// through a Redactor, which masks the exact values it was given (the API
// key, every header value, URL credentials) and anything shaped like a
// credential: "Bearer ...", "Basic ...", "Authorization: ...",
// "?key=...", provider key shapes (sk-..., AKIA..., ghp_..., xox?-...,
// hf_..., AIza...), JWTs and URL userinfo.
package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// Prefix starts every masked value.
const Prefix = "redacted:"

// Mask returns the masked form of a secret value: Prefix and the first 8
// hex digits of its SHA-256. An empty value stays empty, and a masked value
// is returned as is, so masking twice changes nothing.
func Mask(value string) string {
	if value == "" || isMasked(value) {
		return value
	}
	sum := sha256.Sum256([]byte(value))
	return Prefix + hex.EncodeToString(sum[:4])
}

// isMasked reports whether v is already a mask (or the older "[redacted]").
func isMasked(v string) bool {
	if v == "[redacted]" {
		return true
	}
	if len(v) != len(Prefix)+8 || !strings.HasPrefix(v, Prefix) {
		return false
	}
	for _, c := range v[len(Prefix):] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// harmless are the canonical names of headers whose values are shown.
var harmless = []string{
	"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
	"Anthropic-Beta", "Anthropic-Version", "Cache-Control", "Connection",
	"Content-Encoding", "Content-Language", "Content-Type", "Openai-Beta",
	"Pragma", "User-Agent",
}

// Harmless reports whether a header's value may be written in clear: its
// name (any case) is on the allow-list. Every other header is a secret.
func Harmless(name string) bool {
	return slices.Contains(harmless, textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)))
}

// HarmlessNames returns the allow-list, for documentation and messages.
func HarmlessNames() []string { return slices.Clone(harmless) }

// HeaderValue returns value as it may be written out for header name.
func HeaderValue(name, value string) string {
	if Harmless(name) {
		return value
	}
	return Mask(value)
}

// HeaderLine returns a "Name: value" line as it may be written out: the
// name kept, the value masked unless the name is harmless. A line with no
// colon keeps its first word and masks the rest (it may be a credential
// given with the colon forgotten).
func HeaderLine(line string) string {
	name, value, ok := strings.Cut(line, ":")
	if !ok {
		name, value, _ = strings.Cut(strings.TrimSpace(line), " ")
		name = Scrub(name)
		if value = strings.TrimSpace(value); value == "" {
			return name
		}
		return name + " " + Mask(value)
	}
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if value == "" {
		return name + ":"
	}
	return name + ": " + HeaderValue(name, value)
}

// URL returns s with its userinfo, every query value and any fragment
// masked, so a credential given in a URL is never written. Text that does
// not parse as a URL is scrubbed as free text.
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return Scrub(s)
	}
	if u.User == nil && u.RawQuery == "" && u.Fragment == "" {
		return s // nothing secret: kept exactly as given
	}
	if u.User != nil {
		u.User = url.UserPassword("redacted", Mask(u.User.String())[len(Prefix):])
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, kv := range parts {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			if uv, err := url.QueryUnescape(v); err == nil {
				v = uv
			}
			parts[i] = k + "=" + Mask(v)
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = Mask(u.Fragment), ""
	}
	return u.String()
}

// URLValues returns the secret parts of a URL: its userinfo (whole, user
// and password) and its query values, for a Redactor.
func URLValues(s string) []string {
	u, err := url.Parse(s)
	if err != nil {
		return nil
	}
	var vs []string
	if u.User != nil {
		vs = append(vs, u.User.String(), u.User.Username())
		if p, ok := u.User.Password(); ok {
			vs = append(vs, p)
		}
	}
	for _, list := range u.Query() {
		vs = append(vs, list...)
	}
	if u.Fragment != "" {
		vs = append(vs, u.Fragment)
	}
	return vs
}

// HeaderValues returns the values of the "Name: value" lines that are not
// harmless, for a Redactor.
func HeaderValues(lines []string) []string {
	var vs []string
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			vs = append(vs, strings.TrimSpace(l))
			continue
		}
		if !Harmless(name) {
			vs = append(vs, strings.TrimSpace(value))
		}
	}
	return vs
}
