package dist

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// empirical draws uniformly from the values of one column of a file.
type empirical struct {
	file   string // as written in the spec
	column string // selector as written, "" when left out
	c      clip
	vals   []int // clamped to [c.lo, c.hi], sorted
	mean   float64
}

// keyParam matches a trailing ",key=value" that is a parameter rather than
// part of a file or column name.
var keyParam = regexp.MustCompile(`^\s*([A-Za-z_]+)\s*=`)

func parseEmpirical(body string, cfg *config) (Dist, error) {
	// Clip parameters are split off from the right, so the file and
	// column may contain commas.
	keys := map[string]string{}
	for {
		i := strings.LastIndex(body, ",")
		if i < 0 || !keyParam.MatchString(body[i+1:]) {
			break
		}
		k, v, _ := strings.Cut(body[i+1:], "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if err := checkKey(k, keys, []string{"min", "max"}); err != nil {
			return nil, err
		}
		keys[k] = strings.TrimSpace(v)
		body = body[:i]
	}
	c, err := parseClip(keys)
	if err != nil {
		return nil, err
	}
	ref := strings.TrimSpace(body)
	file, column := ref, ""
	if j := strings.LastIndex(ref, ":"); j >= 0 && !strings.ContainsAny(ref[j+1:], `/\`) {
		file, column = strings.TrimSpace(ref[:j]), strings.TrimSpace(ref[j+1:])
		if column == "" {
			return nil, fmt.Errorf("empirical %s: empty column after ':' (name one, or drop the ':')", quoteIfNeeded(file))
		}
	}
	if file == "" {
		return nil, errors.New("empirical needs a file (e.g. " + kindExample["empirical"] + ")")
	}
	vals, err := readColumn(cfg, file, column)
	if err != nil {
		return nil, err
	}
	sum := 0.0
	for i, v := range vals {
		vals[i] = min(max(v, c.lo), c.hi)
		sum += float64(vals[i])
	}
	slices.Sort(vals)
	return empirical{file: file, column: column, c: c, vals: vals, mean: sum / float64(len(vals))}, nil
}

func (d empirical) Sample(r *rand.Rand) int { return d.vals[r.IntN(len(d.vals))] }

func (d empirical) CDF(x float64) float64 {
	if math.IsNaN(x) {
		return math.NaN()
	}
	n, _ := slices.BinarySearchFunc(d.vals, x, func(v int, x float64) int {
		if float64(v) <= x {
			return -1
		}
		return 1
	})
	return float64(n) / float64(len(d.vals))
}

func (d empirical) Mean() float64 { return d.mean }

func (d empirical) String() string {
	s := "empirical:" + d.file
	if d.column != "" {
		s += ":" + d.column
	}
	return s + d.c.String()
}

// open opens file in cfg's file system, relative to its base directory.
func open(cfg *config, file string) (fs.File, error) {
	if cfg.fsys != nil {
		p := file
		if cfg.baseDir != "" {
			p = path.Join(cfg.baseDir, file)
		}
		if !fs.ValidPath(p) {
			return nil, fmt.Errorf("empirical file %s: not a valid path in the given file system (want slash-separated and relative)", quoteIfNeeded(p))
		}
		return cfg.fsys.Open(p)
	}
	p := file
	if cfg.baseDir != "" && !filepath.IsAbs(file) {
		p = filepath.Join(cfg.baseDir, file)
	}
	return os.Open(p)
}

// readColumn returns the values of one column of file; see the package
// documentation for the accepted formats.
func readColumn(cfg *config, file, column string) ([]int, error) {
	f, err := open(cfg, file)
	if err != nil {
		return nil, fmt.Errorf("empirical file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("empirical file: %w", err)
	}
	name := quoteIfNeeded(file)
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("empirical file %s is not a regular file", name)
	}
	br := bufio.NewReader(f)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true

	first, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s has no values", name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	header := slices.ContainsFunc(first, func(s string) bool { return !isNumberSyntax(strings.TrimSpace(s)) })
	idx, colName, err := selectColumn(name, first, header, column)
	if err != nil {
		return nil, err
	}

	var vals []int
	var bad int
	var firstBad string
	add := func(rec []string) error {
		line, _ := cr.FieldPos(0)
		if idx >= len(rec) {
			return fmt.Errorf("%s line %d has %d fields, no %s", name, line, len(rec), colName)
		}
		s := strings.TrimSpace(rec[idx])
		if s == "" {
			return fmt.Errorf("%s line %d, %s: empty value", name, line, colName)
		}
		v, err := parseNumber("value", s)
		if err != nil {
			return fmt.Errorf("%s line %d, %s: %w", name, line, colName, err)
		}
		if v < 1 && v == math.Trunc(v) {
			if bad == 0 {
				firstBad = fmt.Sprintf("%s on line %d", s, line)
			}
			bad++
			return nil
		}
		n, err := checkLength("value", s, v)
		if err != nil {
			return fmt.Errorf("%s line %d, %s: %w", name, line, colName, err)
		}
		vals = append(vals, n)
		return nil
	}
	if !header {
		if err := add(first); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if err := add(rec); err != nil {
			return nil, err
		}
	}
	if bad > 0 {
		return nil, fmt.Errorf("%s, %s: %d values below 1 (first: %s); token lengths must be >= 1, drop those rows (failed requests?)", name, colName, bad, firstBad)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("%s has no values in %s", name, colName)
	}
	return vals, nil
}

// selectColumn resolves the column selector against the first row. It
// returns the index and a name for messages.
func selectColumn(file string, first []string, header bool, column string) (int, string, error) {
	if !header {
		n := len(first)
		if column == "" {
			if n == 1 {
				return 0, "column 0", nil
			}
			return 0, "", fmt.Errorf("%s has no header and %d columns; name one by index 0..%d (e.g. empirical:%s:0)", file, n, n-1, file)
		}
		i, err := strconv.Atoi(column)
		if err != nil || i < 0 || i >= n {
			return 0, "", fmt.Errorf("column %q not in %s (no header; want an index 0..%d)", column, file, n-1)
		}
		return i, "column " + column, nil
	}
	names := make([]string, len(first))
	for i, s := range first {
		names[i] = strings.TrimSpace(s)
	}
	have := make([]string, len(names))
	for i, s := range names {
		have[i] = quoteIfNeeded(s)
	}
	list := strings.Join(have, ", ")
	if column == "" {
		if len(names) == 1 {
			return 0, "column " + strconv.Quote(names[0]), nil
		}
		return 0, "", fmt.Errorf("%s has %d columns, name one (have %s)", file, len(names), list)
	}
	if i := slices.Index(names, column); i >= 0 {
		return i, "column " + strconv.Quote(column), nil
	}
	if i, err := strconv.Atoi(column); err == nil && i >= 0 && strings.Trim(column, "0123456789") == "" {
		if i < len(names) {
			return i, "column " + strconv.Quote(names[i]), nil
		}
		return 0, "", fmt.Errorf("column %s not in %s (have %d columns, index from 0: %s)", column, file, len(names), list)
	}
	return 0, "", fmt.Errorf("column %q not in %s (have %s)", column, file, list)
}

// quoteIfNeeded returns s, or s quoted when it is empty or has spaces,
// quotes, commas or non-printable characters.
func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \",") || strconv.Quote(s) != `"`+s+`"` {
		return strconv.Quote(s)
	}
	return s
}
