package main

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/spf13/pflag"

	"github.com/streamgauge/streamgauge/profiles"
)

// checkSimSettings refuses --sim-* flags (and STREAMGAUGE_SIM_* variables)
// given with a --target: the built-in simulator starts only without one,
// so they would be ignored. A profile file's sim-* keys with a target only
// earn a notice: one profile may serve a rehearsal on the simulator and
// the real server.
func checkSimSettings(fs *pflag.FlagSet, e *env, p profiles.Profile) error {
	if p.Target == "" {
		return nil
	}
	var given []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !strings.HasPrefix(f.Name, "sim-") {
			return
		}
		if by := givenBy(fs, e, f.Name); by != "" {
			given = append(given, by)
		}
	})
	if len(given) > 0 {
		return usagef("%s: settings of the built-in simulator, which does not start with --target %s; drop them, or drop --target to run against the simulator",
			strings.Join(given, ", "), p.Target)
	}
	if keys := simKeys(p); len(keys) > 0 {
		fmt.Fprintf(e.stderr, "streamgauge: the profile's %s apply only to the built-in simulator: ignored with --target\n", strings.Join(keys, ", "))
	}
	return nil
}

// givenBy names what set the flag name on this command line: "--name"
// when the flag was given, else its STREAMGAUGE_ variable when that is set
// and not empty, else "".
func givenBy(fs *pflag.FlagSet, e *env, name string) string {
	if f := fs.Lookup(name); f != nil && f.Changed {
		return "--" + name
	}
	if v, ok := e.getenv(envName(name)); ok && v != "" {
		return envName(name)
	}
	return ""
}

// simKeys names the profile's sim-* settings that are set.
func simKeys(p profiles.Profile) []string {
	var keys []string
	v := reflect.ValueOf(p)
	for i := range v.NumField() {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("mapstructure"), ",")
		if strings.HasPrefix(tag, "sim-") && !v.Field(i).IsZero() {
			keys = append(keys, tag)
		}
	}
	return keys
}
