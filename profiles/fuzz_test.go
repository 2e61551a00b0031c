package profiles_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/profiles"
)

// FuzzProfile feeds arbitrary bytes to the profile loader: parsing,
// strict decoding and validation must return errors, never panic.
func FuzzProfile(f *testing.F) {
	for _, name := range profiles.BuiltinNames() {
		src, err := profiles.Find(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src.Data)
	}
	f.Add([]byte("rate: fast\n"))
	f.Add([]byte("stages: [\"30s:rate=5\", 7]\nrequests: -1\n"))
	f.Add([]byte("generic: {text: \"a..b\", framing: xml}\napi: generic\n"))
	f.Add([]byte("input-tokens: normal:1e308,1e308\nrate: 1e400\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &profiles.Source{Name: "fuzz.yaml", Data: data}
		settings, err := src.Settings()
		if err != nil {
			return
		}
		p, err := profiles.Resolve(settings)
		if err != nil {
			return
		}
		_ = p.Validate()
		_ = p.Redacted()
	})
}
