package profiles

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/viper"
	"github.com/streamgauge/streamgauge/internal/nearest"
)

// Source is a profile's YAML and where it came from.
type Source struct {
	// Name is the built-in name or the file path.
	Name string
	// Dir is the directory relative paths in the profile resolve against.
	Dir string
	// FS, for built-in profiles, holds the data files they name.
	FS   fs.FS
	Data []byte
}

// Find returns the built-in profile called nameOrPath, or else the file at
// that path.
func Find(nameOrPath string) (*Source, error) {
	if b, ok := builtin(nameOrPath); ok {
		return &Source{Name: nameOrPath, Data: b, FS: builtinFS}, nil
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("profile %q: not a built-in profile (%s) and no such file", nameOrPath, strings.Join(BuiltinNames(), ", "))
		}
		return nil, fmt.Errorf("profile %q: %w", nameOrPath, err)
	}
	return &Source{Name: nameOrPath, Dir: filepath.Dir(nameOrPath), Data: data}, nil
}

// Settings parses the profile YAML into settings viper can merge, rejecting
// unknown keys with the nearest valid one.
func (s *Source) Settings() (map[string]any, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(s.Data)); err != nil {
		return nil, fmt.Errorf("profile %s: not valid YAML: %w", s.Name, err)
	}
	known := Keys()
	for _, k := range v.AllKeys() {
		top, _, _ := strings.Cut(k, ".")
		if !slices.Contains(known, top) {
			return nil, fmt.Errorf("profile %s: unknown key %q%s", s.Name, top, suggest(top, known))
		}
	}
	return v.AllSettings(), nil
}

// Decode reads the layered settings in v (file, environment, flags) over the
// defaults, strictly: a key that is not a profile field is an error.
func Decode(v *viper.Viper) (Profile, error) {
	p := Default()
	if err := v.UnmarshalExact(&p); err != nil {
		return p, fmt.Errorf("settings: %w", err)
	}
	return p, nil
}

// suggest returns ` (did you mean "x"?)` for the key nearest to k.
func suggest(k string, known []string) string {
	best := nearest.Name(k, known, 3)
	if best == "" {
		return "; valid keys: " + strings.Join(known, ", ")
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
