package profiles

import (
	"embed"
	"path"
	"sort"
	"strings"

	"github.com/spf13/viper"
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
	b, ok := builtin(name)
	if !ok {
		return Profile{}, false
	}
	v := viper.New()
	src := &Source{Name: name, Data: b, FS: builtinFS}
	m, err := src.Settings()
	if err != nil {
		return Profile{}, false
	}
	if err := v.MergeConfigMap(m); err != nil {
		return Profile{}, false
	}
	p, err := Decode(v)
	p.FS = builtinFS
	return p, err == nil
}
