package sim_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/targets/sim"
)

var updateExamples = flag.Bool("update-example-presets", false, "rewrite examples/presets from the built-in presets")

// TestExamplePresetFiles keeps the sample preset files users try
// (examples/presets) equal to what WritePreset writes for the built-in
// preset of the same name, and readable by ReadPresetFile.
func TestExamplePresetFiles(t *testing.T) {
	for _, m := range []sim.CostModel{sim.HFEagerH200} {
		path := filepath.Join("..", "..", "examples", "presets", m.Name+".yaml")
		var b bytes.Buffer
		fit := map[string]any{"source": "the built-in preset " + m.Name + " (streamgauge serve --help); replace this file with your own: streamgauge calibrate RUN_DIR... -o preset.yaml"}
		if err := sim.WritePreset(&b, sim.NewPresetFile(m, fit)); err != nil {
			t.Fatal(err)
		}
		if *updateExamples {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./targets/sim -run TestExamplePresetFiles -update-example-presets writes it)", err)
		}
		if !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%s differs from WritePreset's output for %s; rerun with -update-example-presets", path, m.Name)
		}
		read, err := sim.ReadPresetFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if read != m {
			t.Errorf("%s reads as %+v, want %+v", path, read, m)
		}
	}
}
