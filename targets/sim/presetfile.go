package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// PresetFile is a cost model written as YAML: `streamgauge calibrate`
// writes one and --sim-preset-file reads it. Durations are Go durations
// ("1.2ms", "27.3µs"); per_context_token_ns is nanoseconds as a number.
// Fit is free-form provenance (the runs a calibration used, its
// uncertainties and residuals); reading ignores it.
type PresetFile struct {
	Name              string   `yaml:"name"`
	Description       string   `yaml:"description,omitempty"`
	Overhead          duration `yaml:"overhead"`
	LaunchFloor       duration `yaml:"launch_floor"`
	DecodeLaunchFloor duration `yaml:"decode_launch_floor"`
	PerToken          duration `yaml:"per_token"`
	WeightRead        duration `yaml:"weight_read"`
	PerContextTokenNS float64  `yaml:"per_context_token_ns"`
	KVTokens          int      `yaml:"kv_tokens"`
	Fit               any      `yaml:"fit,omitempty"`
}

// duration is a time.Duration that reads and writes as "1.5ms".
type duration time.Duration

// MarshalYAML writes d as a Go duration string.
func (d duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalYAML reads a Go duration string, or 0.
func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 1.5ms", n.Line)
	}
	if n.Value == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (write it like 1.5ms or 27us)", n.Line, n.Value)
	}
	*d = duration(v)
	return nil
}

// NewPresetFile is m as a PresetFile, with fit as its provenance (or nil).
func NewPresetFile(m CostModel, fit any) PresetFile {
	return PresetFile{
		Name: m.Name, Description: m.Description,
		Overhead: duration(m.Overhead), LaunchFloor: duration(m.LaunchFloor),
		DecodeLaunchFloor: duration(m.DecodeLaunchFloor), PerToken: duration(m.PerToken),
		WeightRead: duration(m.WeightRead), PerContextTokenNS: m.PerContextToken,
		KVTokens: m.KVTokens, Fit: fit,
	}
}

// CostModel is the cost model f describes.
func (f PresetFile) CostModel() CostModel {
	return CostModel{
		Name: f.Name, Description: f.Description,
		Overhead: time.Duration(f.Overhead), LaunchFloor: time.Duration(f.LaunchFloor),
		DecodeLaunchFloor: time.Duration(f.DecodeLaunchFloor), PerToken: time.Duration(f.PerToken),
		WeightRead: time.Duration(f.WeightRead), PerContextToken: f.PerContextTokenNS,
		KVTokens: f.KVTokens,
	}
}

// WritePreset writes f as YAML to w.
func WritePreset(w io.Writer, f PresetFile) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("preset %s: %w", f.Name, err)
	}
	return enc.Close()
}

// ParsePreset reads a preset file's bytes; name (the file's path) is for
// messages. Unknown keys are refused, naming the key, and the model must
// pass CostModel.Validate and have a KV capacity.
func ParsePreset(name string, data []byte) (CostModel, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f PresetFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return CostModel{}, fmt.Errorf("preset file %s: empty; write it with streamgauge calibrate -o %s", name, name)
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
		msg = strings.ReplaceAll(msg, "\n  ", "; ")
		msg = unknownField.ReplaceAllString(msg, "unknown key $1 (keys: "+presetKeys+")")
		return CostModel{}, fmt.Errorf("preset file %s: %s", name, msg)
	}
	m := f.CostModel()
	if m.Name == "" {
		m.Name = name
	}
	if err := m.Validate(); err != nil {
		return CostModel{}, fmt.Errorf("preset file %s: %w", name, err)
	}
	if m.KVTokens <= 0 {
		return CostModel{}, fmt.Errorf("preset file %s: kv_tokens must be positive (the KV-cache capacity in tokens)", name)
	}
	return m, nil
}

// unknownField matches yaml's message for a key KnownFields refuses.
var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// presetKeys lists a preset file's keys for messages.
const presetKeys = "name, description, overhead, launch_floor, decode_launch_floor, per_token, weight_read, per_context_token_ns, kv_tokens, fit"

// ReadPresetFile reads the preset file at path.
func ReadPresetFile(path string) (CostModel, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return CostModel{}, fmt.Errorf("preset file: %w", err)
	}
	return ParsePreset(path, data)
}
