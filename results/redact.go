package results

import (
	"strings"

	"github.com/streamgauge/streamgauge/internal/secret"
)

// RedactProfile masks, in a profile read back from a run.json, what
// profiles.Profile.Redacted masks when a run writes it: every header value
// whose name is not on the harmless allow-list (--header lines and the
// generic block's constant headers), and the credentials in the target,
// endpoint and scrape-metrics URLs. A run.json written before redaction
// existed holds them in clear; masking is idempotent, so a profile already
// redacted is unchanged. It returns a new map; p is not modified.
func RedactProfile(p map[string]any) map[string]any {
	if p == nil {
		return nil
	}
	q := make(map[string]any, len(p))
	for k, v := range p {
		q[k] = redactValue(k, v)
	}
	return q
}

// redactValue masks the profile value v of key k.
func redactValue(k string, v any) any {
	switch strings.ToLower(k) {
	case "header", "headers":
		return redactHeaders(v)
	case "target", "endpoint":
		if s, ok := v.(string); ok {
			return secret.URL(s)
		}
	case "scrape-metrics":
		if s, ok := v.(string); ok && s != "sim" {
			return secret.URL(s)
		}
	case "api-key", "api_key", "apikey":
		if s, ok := v.(string); ok {
			return secret.Mask(s)
		}
	case "generic":
		if m, ok := v.(map[string]any); ok {
			g := make(map[string]any, len(m))
			for gk, gv := range m {
				if strings.EqualFold(gk, "headers") {
					gv = redactHeaders(gv)
				}
				g[gk] = gv
			}
			return g
		}
	}
	return v
}

// redactHeaders masks headers given as "Name: value" lines (a list or one
// line) or as a name-to-value object.
func redactHeaders(v any) any {
	switch h := v.(type) {
	case string:
		return secret.HeaderLine(h)
	case []any:
		out := make([]any, len(h))
		for i, l := range h {
			if s, ok := l.(string); ok {
				out[i] = secret.HeaderLine(s)
			} else {
				out[i] = l
			}
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(h))
		for name, val := range h {
			if s, ok := val.(string); ok {
				out[name] = secret.HeaderValue(name, s)
			} else {
				out[name] = val
			}
		}
		return out
	}
	return v
}
