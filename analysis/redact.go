package analysis

import "github.com/streamgauge/streamgauge/results"

// redactProfile masks, in place, the settings of a run.json profile that
// may hold secrets: header values not on the harmless allow-list, the
// credentials in the target and scrape-metrics URLs, the generic block's
// constant header values. Runs written by this version have them masked
// already (masking twice changes nothing); runs from older versions, which
// wrote some header values in clear, are reported without them too. The
// rules are results.RedactProfile's, which merge applies as well.
func redactProfile(m map[string]any) {
	for k, v := range results.RedactProfile(m) {
		m[k] = v
	}
}
