package analysis

import "github.com/streamgauge/streamgauge/internal/secret"

// redactProfile masks, in place, the settings of a run.json profile that
// may hold secrets: header values not on the harmless allow-list, the
// credentials in the target and scrape-metrics URLs, the generic block's
// constant header values. Runs written by this version have them masked
// already (masking twice changes nothing); runs from older versions, which
// wrote some header values in clear, are reported without them too.
func redactProfile(m map[string]any) {
	if list, ok := m["header"].([]any); ok {
		for i, h := range list {
			if s, ok := h.(string); ok {
				list[i] = secret.HeaderLine(s)
			}
		}
	}
	for _, k := range []string{"target", "endpoint", "scrape-metrics"} {
		if s, ok := m[k].(string); ok && s != "" && s != "sim" {
			m[k] = secret.URL(s)
		}
	}
	if g, ok := m["generic"].(map[string]any); ok {
		if hs, ok := g["headers"].(map[string]any); ok {
			for k, v := range hs {
				if s, ok := v.(string); ok {
					hs[k] = secret.HeaderValue(k, s)
				}
			}
		}
	}
}
