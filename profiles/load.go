package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

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
			hint := ""
			if best := nearest.Name(strings.TrimSuffix(nameOrPath, ".yaml"), BuiltinNames(), 2); best != "" && !strings.ContainsAny(nameOrPath, `/\`) {
				hint = fmt.Sprintf("; did you mean %q?", best)
			}
			return nil, fmt.Errorf("profile %q: not a built-in profile (%s) and no such file%s", nameOrPath, strings.Join(BuiltinNames(), ", "), hint)
		}
		return nil, fmt.Errorf("profile %q: %w", nameOrPath, err)
	}
	return &Source{Name: nameOrPath, Dir: filepath.Dir(nameOrPath), Data: data}, nil
}

// Settings reads the profile's YAML into settings for Resolve. Every
// unknown key is reported at once, each with the nearest valid key.
func (s *Source) Settings() ([]Setting, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(s.Data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file sets nothing
		}
		return nil, fmt.Errorf("profile %s: not valid YAML: %s", s.Name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("profile %s: holds more than one YAML document (---); give one", s.Name)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = resolveAlias(root)
	if root == nil || isNull(root) {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("profile %s: want keys and values (rate: 5), one per line", s.Name)
	}
	from := Origin{File: s.Name}
	known := Keys()
	var out []Setting
	var errs []error
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := resolveAlias(root.Content[i]), root.Content[i+1]
		if kn == nil || kn.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("profile %s: line %d: a key must be a name", s.Name, root.Content[i].Line))
			continue
		}
		if kn.Value == "<<" {
			errs = append(errs, fmt.Errorf("profile %s: line %d: merge keys (<<) are not supported; write the keys out", s.Name, kn.Line))
			continue
		}
		if line, ok := seen[kn.Value]; ok {
			errs = append(errs, fmt.Errorf("profile %s: %s: given twice (lines %d and %d); keep one", s.Name, kn.Value, line, kn.Line))
			continue
		}
		seen[kn.Value] = kn.Line
		if !slices.Contains(known, kn.Value) {
			errs = append(errs, fmt.Errorf("profile %s: unknown key %q%s", s.Name, kn.Value, suggest(kn.Value, known)))
			continue
		}
		out = append(out, Setting{Key: kn.Value, From: from, node: vn})
	}
	return out, errors.Join(errs...)
}

// Load reads the built-in profile or file nameOrPath over the defaults, then
// the further layers given (environment variables, flags), as `streamgauge
// run` does. It does not validate the result.
func Load(nameOrPath string, layers ...[]Setting) (Profile, error) {
	src, err := Find(nameOrPath)
	if err != nil {
		return Default(), err
	}
	file, err := src.Settings()
	if err != nil {
		return Default(), err
	}
	p, err := Resolve(append([][]Setting{file}, layers...)...)
	p.Dir, p.FS = src.Dir, src.FS
	return p, err
}

// Keys returns the profile's keys, as written in files and flags.
func Keys() []string {
	var out []string
	for _, f := range fieldsOf(reflect.TypeFor[Profile]()) {
		out = append(out, f.key)
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for the key nearest to k, if one
// is near enough to be a misspelling of it (a third of its letters, at
// most 3), else where the keys are listed: the run command's flags for a
// profile's own keys, the known ones for a nested block's.
func suggest(k string, known []string) string {
	best := nearest.Name(k, known, min(3, max(1, len(k)/3)))
	if best == "" && len(known) > 20 {
		return " (the keys are the flags of streamgauge run --help)"
	}
	if best == "" {
		return "; want one of " + strings.Join(known, ", ")
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
