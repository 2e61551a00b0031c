// Package profiles owns the Profile: everything a run needs (workload, load,
// target, SLOs) as one value that can be written as YAML, layered with
// environment variables and flags, validated with messages that name the
// field, and shipped as built-in profiles embedded in the binary.
package profiles
