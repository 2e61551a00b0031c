package main

import (
	"errors"
	"fmt"
)

// Exit codes of the design.
const (
	exitOK    = 0 // ran, and every SLO held
	exitRun   = 1 // the run could not be carried out
	exitUsage = 2 // usage or configuration error
	exitSLO   = 3 // an SLO was violated, or compare found a regression
)

// exitError carries an exit code with the error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

func usagef(format string, a ...any) error { return usageError(fmt.Errorf(format, a...)) }

func runError(err error) error { return &exitError{code: exitRun, err: err} }

func runErrorf(format string, a ...any) error { return runError(fmt.Errorf(format, a...)) }

// codeOf maps an error to its exit code; errors without one are run errors.
func codeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitRun
}
