package profiles

import (
	"fmt"
	"slices"
	"strings"

	"github.com/streamgauge/streamgauge/loadgen/dataset"
)

// datasetProblems reports the dataset and unique-prompts settings that
// cannot work, or that clash with another setting, one error each.
func (p *Profile) datasetProblems() []error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, a...)))
	}
	if !slices.Contains(dataset.Formats(), p.DatasetFormat) {
		bad("dataset-format", "%q: want %s", p.DatasetFormat, strings.Join(dataset.Formats(), ", "))
	}
	for _, f := range []struct {
		key string
		v   int
	}{{"dataset-sample", p.DatasetSample}, {"dataset-min-input", p.DatasetMinInput}, {"dataset-max-input", p.DatasetMaxInput}} {
		if f.v < 0 {
			bad(f.key, "%d must not be negative", f.v)
		}
	}
	if p.DatasetMaxInput > 0 && p.DatasetMinInput > p.DatasetMaxInput {
		bad("dataset-min-input", "%d is above dataset-max-input %d: no prompt could pass", p.DatasetMinInput, p.DatasetMaxInput)
	}
	if p.Dataset == "" {
		for _, f := range []struct {
			key string
			set bool
		}{{"dataset-sample", p.DatasetSample != 0}, {"dataset-min-input", p.DatasetMinInput != 0},
			{"dataset-max-input", p.DatasetMaxInput != 0}, {"dataset-format", p.DatasetFormat != dataset.FormatAuto}} {
			if f.set {
				bad(f.key, "applies to --dataset FILE only")
			}
		}
	} else {
		switch {
		case p.Trace != "":
			bad("dataset", "a trace brings its own request sizes; give --dataset or --trace, not both")
		case p.Turns != "":
			bad("turns", "a --dataset's conversations set the turns (ShareGPT files become sessions); drop --turns")
		case p.PrefixGroups > 0:
			bad("prefix-groups", "shared prefixes are synthetic text; a --dataset brings its own prompts, so drop prefix-groups")
		}
		// A built-in profile's input-tokens is its synthetic workload's
		// default, not the user's choice: `run chat --dataset FILE` sends
		// the file's prompts. One given in the user's file, variable or
		// flag is refused.
		if o := p.Origin("input-tokens"); o != (Origin{}) && !fromBuiltin(o) {
			bad("input-tokens", "a --dataset brings its own prompts; drop --input-tokens (keep lengths in bounds with --dataset-min-input/--dataset-max-input)")
		}
	}
	if p.UniquePrompts {
		switch {
		case p.PrefixGroups > 0:
			bad("unique-prompts", "a marker at the start of every prompt would break prefix-groups' shared prefixes; drop one")
		case p.Trace != "":
			bad("unique-prompts", "trace replay builds its prompts from the trace's prefix blocks; drop --unique-prompts or --trace")
		}
	}
	return errs
}

// fromBuiltin reports whether a setting came from a built-in profile (not
// overridden by the environment or a flag).
func fromBuiltin(o Origin) bool {
	if o.Env != "" || o.Flag != "" {
		return false
	}
	_, ok := builtin(o.File)
	return ok
}
