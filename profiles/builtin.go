package profiles

import (
	"embed"
	"path"
	"sort"
	"strings"
)

//go:embed builtin/*.yaml data
var builtinFS embed.FS

func builtin(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, false
	}
	b, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	return b, err == nil
}

// BuiltinNames lists the built-in profiles, sorted.
func BuiltinNames() []string {
	entries, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Builtin returns a built-in profile resolved over the defaults.
func Builtin(name string) (Profile, bool) {
	if _, ok := builtin(name); !ok {
		return Profile{}, false
	}
	p, err := Load(name)
	return p, err == nil
}
