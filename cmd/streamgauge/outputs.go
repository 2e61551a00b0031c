package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Every command checks each file and directory it will write before it
// does any work, so a typo in an output path costs a usage error (exit 2)
// naming the flag, not a finished load test whose results are lost.

// outputKind is how a command writes an output path.
type outputKind int

const (
	// outFile is replaced whole (through a temporary file next to it).
	outFile outputKind = iota
	// outAppend is appended to, created when missing ($GITHUB_STEP_SUMMARY).
	outAppend
	// outDir is a directory the command creates when missing.
	outDir
)

// outputPath is one output a command was asked for.
type outputPath struct {
	flag string // as the user wrote it: "--junit", "-o"
	path string
	kind outputKind
}

// checkOutputs checks every output path; empty paths are skipped. It
// returns a usage error with one line per path that cannot be written.
func checkOutputs(outs ...outputPath) error {
	var lines []string
	for _, o := range outs {
		if o.path == "" {
			continue
		}
		if err := checkOutput(o); err != nil {
			lines = append(lines, fmt.Sprintf("%s %s: %v", o.flag, o.path, err))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return usageError(errors.New(strings.Join(lines, "\n")))
}

func checkOutput(o outputPath) error {
	st, err := os.Stat(o.path)
	if missing(err) {
		err = fs.ErrNotExist
	}
	switch {
	case err == nil && o.kind == outDir:
		if !st.IsDir() {
			return errors.New("is a file, not a directory; give a directory")
		}
		return canCreateIn(o.path)
	case err == nil && st.IsDir():
		return errors.New("is a directory; give a file name")
	case err == nil && !st.Mode().IsRegular():
		// A device or a named pipe (/dev/stdout) is written in place;
		// opening a pipe to probe it would wait for its reader.
		return nil
	case err == nil && o.kind == outAppend:
		f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("cannot write it: %w", pathErr(err))
		}
		return f.Close()
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return pathErr(err)
	case err == nil:
		return canCreateIn(filepath.Dir(o.path))
	}
	// The path does not exist yet.
	parent := filepath.Dir(o.path)
	if o.kind != outDir {
		pst, err := os.Stat(parent)
		switch {
		case missing(err):
			return fmt.Errorf("directory %s does not exist; create it first", parent)
		case err != nil:
			return pathErr(err)
		case !pst.IsDir():
			return fmt.Errorf("%s is a file, not a directory", parent)
		}
		return canCreateIn(parent)
	}
	// A directory is created with its parents: the nearest one that
	// exists must be a directory we can write in.
	for {
		pst, err := os.Stat(parent)
		if err == nil {
			if !pst.IsDir() {
				return fmt.Errorf("cannot create it: %s is a file, not a directory", parent)
			}
			return canCreateIn(parent)
		}
		if !missing(err) {
			return pathErr(err)
		}
		next := filepath.Dir(parent)
		if next == parent {
			return fmt.Errorf("cannot create it: %s does not exist", parent)
		}
		parent = next
	}
}

// missing reports whether a Stat error means the path is not there: it does
// not exist, or a parent is a file (ENOTDIR), which the walk up names.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// canCreateIn reports whether a file can be created in dir, by creating
// and removing one: permissions, read-only file systems and ACLs all
// answer.
func canCreateIn(dir string) error {
	f, err := os.CreateTemp(dir, ".streamgauge-probe-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, pathErr(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// pathErr drops the operation and path of a *fs.PathError, which the
// message already names: "permission denied", not "open x: permission
// denied".
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// appendTo appends what write produces to path, creating it if needed.
func appendTo(path string, write func(io.Writer) error) error {
	return writeOpened(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644, write)
}

// writeOpened opens path with flag and perm, runs write against it and
// closes it, returning the first error.
func writeOpened(path string, flag int, perm os.FileMode, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFileAtomic writes path through a temporary file renamed into place,
// so a failed write never leaves half a report for CI to parse. A path
// that exists and is not a regular file (/dev/stdout, a named pipe) is
// written in place: renaming over it would replace the device.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		return writeOpened(path, os.O_WRONLY|os.O_TRUNC, 0, write)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// formatOfExt is the output format a file's extension names.
var formatOfExt = map[string]string{
	".txt": "table", ".md": "markdown", ".markdown": "markdown", ".json": "json", ".csv": "csv",
	".html": "html", ".htm": "html", ".hlog": "hdrlog", ".hdrlog": "hdrlog", ".png": "png",
}

// extOf is the file name ending of a format.
func extOf(format string) string {
	for _, ext := range []string{".txt", ".md", ".json", ".csv", ".html", ".hlog", ".png"} {
		if formatOfExt[ext] == format {
			return ext
		}
	}
	return "." + format
}

// formatFor settles what a command writes to -o out: the file's extension
// names the format (report.html is HTML); an explicit --format that says
// otherwise is refused, and so is an extension that names no format unless
// --format says what to write. A name with no extension (or no -o) keeps
// format.
func formatFor(out, format string, formatSet bool, allowed []string) (string, error) {
	if !slices.Contains(allowed, format) {
		return "", usagef("--format %q: want one of %s", format, strings.Join(allowed, ", "))
	}
	ext := strings.ToLower(filepath.Ext(out))
	if out == "" || ext == "" {
		return format, nil
	}
	exts := make([]string, len(allowed))
	for i, a := range allowed {
		exts[i] = extOf(a)
	}
	byExt, known := formatOfExt[ext]
	switch {
	case known && !slices.Contains(allowed, byExt):
		return "", usagef("-o %s: %s is %s, which this command does not write; end the name in %s", out, ext, byExt, strings.Join(exts, ", "))
	case known && formatSet && byExt != format:
		return "", usagef("--format %s contradicts -o %s (%s is %s): drop --format, or end the name in %s", format, out, ext, byExt, extOf(format))
	case known:
		return byExt, nil
	case !formatSet:
		return "", usagef("-o %s: cannot tell the format from %q; give --format %s or end the name in %s", out, ext, strings.Join(allowed, "|"), strings.Join(exts, ", "))
	}
	return format, nil
}

// runOutputs are the paths run writes: the run directory and the CI files.
func runOutputs(out string, ls liveSettings) []outputPath {
	flag := "--out"
	if out == "" {
		flag, out = "default --out", "results" // results/<UTC time>-<name>
	}
	return []outputPath{{flag, out, outDir}, {"--junit", ls.junit, outFile}, {"--markdown", ls.markdown, outAppend}}
}
