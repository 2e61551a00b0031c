package results

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/internal/secret"
)

// MergedRunInfo is the run.json of a run merged from shards: a RunInfo
// whose Shard reads "merged from N", and where each shard came from.
type MergedRunInfo struct {
	RunInfo
	MergedFrom []MergedShard `json:"merged_from"`
}

// MergedShard is one shard of a merged run.
type MergedShard struct {
	Dir   string    `json:"dir"`
	Shard string    `json:"shard"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// OffsetNS is the shard's start minus the merged run's start: what was
	// added to each of its records' *_ns offsets.
	OffsetNS    int64  `json:"offset_ns"`
	Records     int    `json:"records"`
	Version     string `json:"version"`
	Target      string `json:"target"`
	Interrupted bool   `json:"interrupted,omitempty"`
}

// MergeResult is what Merge wrote and what the caller should know.
type MergeResult struct {
	Info MergedRunInfo
	// Records counts the merged records.
	Records int
	// Warnings are differences between the shards that do not stop the
	// merge (tool versions, start times apart).
	Warnings []string
}

// ShardMismatchError is a merge refused because its inputs are not the
// shards of one run: not shards at all, another seed or profile, a shard
// missing or given twice. It wraps every problem found.
type ShardMismatchError struct{ Err error }

func (e *ShardMismatchError) Error() string { return e.Err.Error() }
func (e *ShardMismatchError) Unwrap() error { return e.Err }

// mergeIgnoredKeys are profile keys that differ between the shards of one
// run by design.
var mergeIgnoredKeys = []string{"shard", "shards", "out", "start-at"}

// startSkewWarning is how far apart shard start times may be before Merge
// warns: shards that share --start-at start within the clocks' skew.
const startSkewWarning = 100 * time.Millisecond

// shardRun is one shard directory as Merge reads it.
type shardRun struct {
	dir     string
	info    RunInfo
	profile map[string]any
	index   int
	count   int
	offset  int64
	records int
}

// Merge merges the shard run directories srcs of one distributed run (the
// same profile and seed, shards i/N for every i) into the run directory
// dst: requests.jsonl holds every shard's records ordered by scheduled
// time, with their *_ns offsets re-based on the earliest shard start (shards
// that share --start-at have one start, and nothing moves), run.json
// says "merged from N", and server_metrics.jsonl (when the shards scraped
// the server) holds every shard's samples on that one time axis, each
// labelled with its shard. summary.json is left to the caller (analysis
// owns it). Shards that do not belong together are an error naming each
// difference.
//
// Records are not held in memory: Merge indexes each line's scheduled time
// and place in its file (a few dozen bytes a record), sorts the index and
// copies the lines.
func Merge(dst string, srcs []string) (*MergeResult, error) {
	if len(srcs) == 0 {
		return nil, errors.New("merge: no shard directories given")
	}
	runs := make([]*shardRun, 0, len(srcs))
	var errs []error
	for _, dir := range srcs {
		r, err := readShard(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		runs = append(runs, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, &ShardMismatchError{Err: err}
	}
	res := &MergeResult{}
	if err := checkShards(dst, runs, res); err != nil {
		return nil, &ShardMismatchError{Err: err}
	}
	start, latest, end := runs[0].info.Start, runs[0].info.Start, runs[0].info.End
	for _, r := range runs {
		if r.info.Start.Before(start) {
			start = r.info.Start
		}
		if r.info.Start.After(latest) {
			latest = r.info.Start
		}
		if r.info.End.After(end) {
			end = r.info.End
		}
	}
	if skew := latest.Sub(start); skew > startSkewWarning {
		res.Warnings = append(res.Warnings, fmt.Sprintf("shard start times are %s apart: records are re-based on the earliest start, but the shards did not share one schedule (give every worker the same --start-at)", skew.Round(time.Millisecond)))
	}
	for _, r := range runs {
		r.offset = int64(r.info.Start.Sub(start))
	}

	refs, err := indexRecords(runs, res)
	if err != nil {
		return nil, err
	}
	if err := writeMerged(dst, runs, refs); err != nil {
		return nil, err
	}
	if err := mergeServerMetrics(dst, runs, res); err != nil {
		os.Remove(filepath.Join(dst, RequestsFile))
		return nil, err
	}

	first := runs[0]
	profile := make(map[string]any, len(first.profile))
	for k, v := range first.profile {
		profile[k] = v
	}
	delete(profile, "shard")
	delete(profile, "shards")
	profile["out"] = dst
	info := MergedRunInfo{RunInfo: first.info}
	info.Start, info.End = start, end
	info.Profile = profile
	info.Shard = fmt.Sprintf("merged from %d", len(runs))
	info.Interrupted = false
	info.Status, info.PlannedRequests = StatusCompleted, 0
	targets := map[string]bool{}
	for _, r := range runs {
		if r.info.Status != StatusCompleted && info.Status == StatusCompleted {
			info.Status = r.info.Status // the first shard that did not complete, or "" for a shard too old to say
		}
		info.MergedFrom = append(info.MergedFrom, MergedShard{Dir: r.dir, Shard: r.info.Shard, Start: r.info.Start, End: r.info.End,
			OffsetNS: r.offset, Records: r.records, Version: r.info.Version, Target: r.info.Target, Interrupted: r.info.Interrupted})
		info.Interrupted = info.Interrupted || r.info.Interrupted
		targets[r.info.Target] = true
		if r.info.Interrupted {
			res.Warnings = append(res.Warnings, fmt.Sprintf("shard %s (%s) was interrupted: its schedule is incomplete", r.info.Shard, r.dir))
		}
	}
	if len(targets) > 1 && !first.info.Simulated {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the shards sent to %d different target URLs; run.json names the first", len(targets)))
	}
	if err := WriteJSON(dst, RunFile, info); err != nil {
		os.Remove(filepath.Join(dst, RequestsFile))
		os.Remove(filepath.Join(dst, ServerMetricsFile))
		return nil, err
	}
	res.Info, res.Records = info, len(refs)
	return res, nil
}

func readShard(dir string) (*shardRun, error) {
	var raw struct {
		RunInfo
		Profile map[string]any `json:"profile"`
	}
	if err := ReadJSON(dir, RunFile, &raw); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("shard %s: no %s: not a run directory", dir, RunFile)
		}
		return nil, fmt.Errorf("shard %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, RequestsFile)); err != nil {
		return nil, fmt.Errorf("shard %s: no %s", dir, RequestsFile)
	}
	// A shard written before redaction existed holds header values and URL
	// credentials in clear: mask them as a run writes them, so neither the
	// merged run.json nor a mismatch message shows them.
	prof := RedactProfile(raw.Profile)
	r := &shardRun{dir: dir, info: raw.RunInfo, profile: prof}
	r.info.Profile = prof
	r.info.Target = secret.URL(r.info.Target)
	a, b, ok := strings.Cut(r.info.Shard, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return nil, fmt.Errorf("shard %s: run.json shard %q is not i/N", dir, r.info.Shard)
	}
	if n == 1 {
		return nil, fmt.Errorf("shard %s: not a shard (shard 0/1, a whole run); merge combines the shards of one run made with --shard i/N", dir)
	}
	r.index, r.count = i, n
	return r, nil
}

// checkShards reports every way the shards do not form one run, and warns
// of differences that do not matter to the records.
func checkShards(dst string, runs []*shardRun, res *MergeResult) error {
	var errs []error
	dstAbs, _ := filepath.Abs(dst)
	for _, r := range runs {
		if abs, _ := filepath.Abs(r.dir); abs == dstAbs {
			errs = append(errs, fmt.Errorf("merge: -o %s is one of the shards; write the merged run elsewhere", dst))
		}
	}
	slices.SortStableFunc(runs, func(a, b *shardRun) int {
		return cmp.Or(cmp.Compare(a.index, b.index), a.info.Start.Compare(b.info.Start))
	})
	first := runs[0]
	seen := map[int]string{}
	for _, r := range runs {
		if r.count != first.count {
			errs = append(errs, fmt.Errorf("shards disagree on the shard count: %s is %s, %s is %s", first.dir, first.info.Shard, r.dir, r.info.Shard))
			continue
		}
		if d, dup := seen[r.index]; dup {
			errs = append(errs, fmt.Errorf("shard %s appears twice: %s and %s", r.info.Shard, d, r.dir))
			continue
		}
		seen[r.index] = r.dir
		if r == first {
			continue
		}
		if r.info.Seed != first.info.Seed {
			errs = append(errs, fmt.Errorf("shards disagree on the seed: %s has %d, %s has %d; every worker must use the same --seed, or the shards are not one schedule", first.dir, first.info.Seed, r.dir, r.info.Seed))
		}
		if diff := profileDiff(first.profile, r.profile); len(diff) > 0 {
			errs = append(errs, fmt.Errorf("shards ran different profiles: %s and %s differ in %s", first.dir, r.dir, strings.Join(diff, "; ")))
		}
		if r.info.Version != first.info.Version {
			res.Warnings = append(res.Warnings, fmt.Sprintf("shards ran different streamgauge versions: %s %s, %s %s", first.dir, first.info.Version, r.dir, r.info.Version))
		}
		if a, b := first.profile["start-at"], r.profile["start-at"]; !reflect.DeepEqual(a, b) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("shards were given different --start-at: %s %v, %s %v", first.dir, a, r.dir, b))
		}
	}
	if len(errs) == 0 && len(seen) < first.count {
		var missing []string
		for i := range first.count {
			if _, ok := seen[i]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", i, first.count))
			}
		}
		errs = append(errs, fmt.Errorf("shards missing: %s (got %d of %d); merge every shard of the run", strings.Join(missing, ", "), len(seen), first.count))
	}
	return errors.Join(errs...)
}

// profileDiff lists the keys on which two shards' profiles differ, with
// both values, ignoring the keys that differ by design.
func profileDiff(a, b map[string]any) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if slices.Contains(mergeIgnoredKeys, k) {
			continue
		}
		if !reflect.DeepEqual(a[k], b[k]) {
			out = append(out, fmt.Sprintf("%s (%s vs %s)", k, showValue(a[k]), showValue(b[k])))
		}
	}
	sort.Strings(out)
	return out
}

func showValue(v any) string {
	if v == nil {
		return "unset"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// lineRef places one record: its re-based scheduled time, its shard and
// where its line is.
type lineRef struct {
	sched int64
	shard int32
	n     int32
	off   int64
}

// indexRecords reads every shard's records once, checking each line, and
// returns their places in merged order: by re-based scheduled time, then
// shard, then file order. A shard's torn last line is left out, as every
// reader leaves it out, and reported as a warning.
func indexRecords(runs []*shardRun, res *MergeResult) ([]lineRef, error) {
	var refs []lineRef
	for si, r := range runs {
		p := filepath.Join(r.dir, RequestsFile)
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("shard %s: %w", r.dir, err)
		}
		torn, err := ScanRecords(f, p, func(rec *Record, l Line) error {
			refs = append(refs, lineRef{sched: rec.ScheduledNS + r.offset, shard: int32(si), n: int32(len(l.Raw)), off: l.Offset})
			r.records++
			return nil
		})
		f.Close()
		if err != nil {
			return nil, err
		}
		if torn != nil {
			res.Warnings = append(res.Warnings, torn.String())
		}
	}
	slices.SortFunc(refs, func(a, b lineRef) int {
		return cmp.Or(cmp.Compare(a.sched, b.sched), cmp.Compare(a.shard, b.shard), cmp.Compare(a.off, b.off))
	})
	return refs, nil
}

// writeMerged writes dst/requests.jsonl from the index: lines of shards
// with no offset are copied as they are, the others re-based.
func writeMerged(dst string, runs []*shardRun, refs []lineRef) (err error) {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("run directory %s: %w", dst, err)
	}
	p := filepath.Join(dst, RequestsFile)
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if os.IsExist(err) {
			return fmt.Errorf("run directory %s already holds a run; choose another -o", dst)
		}
		return fmt.Errorf("run directory %s: %w", dst, err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(p)
		}
	}()
	files := make([]*os.File, len(runs))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for i, r := range runs {
		if files[i], err = os.Open(filepath.Join(r.dir, RequestsFile)); err != nil {
			return fmt.Errorf("shard %s: %w", r.dir, err)
		}
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	var enc bytes.Buffer
	je := json.NewEncoder(&enc)
	je.SetEscapeHTML(false)
	var buf []byte
	for _, ref := range refs {
		buf = slices.Grow(buf[:0], int(ref.n))[:ref.n]
		r := runs[ref.shard]
		if _, err := files[ref.shard].ReadAt(buf, ref.off); err != nil {
			return fmt.Errorf("shard %s: read %s: %w", r.dir, RequestsFile, err)
		}
		line := buf
		if r.offset != 0 {
			var rec Record
			if err := json.Unmarshal(buf, &rec); err != nil {
				return fmt.Errorf("shard %s: %w", r.dir, err)
			}
			Rebase(&rec, r.offset)
			enc.Reset()
			if err := je.Encode(&rec); err != nil {
				return fmt.Errorf("encode record %s: %w", rec.ID, err)
			}
			line = bytes.TrimSuffix(enc.Bytes(), []byte("\n"))
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// Rebase shifts a record's time offsets by d nanoseconds (a later run
// origin is a negative d). A first_token_ns of 0 means "no token" and stays.
func Rebase(r *Record, d int64) {
	r.ScheduledNS += d
	r.SentNS += d
	r.DoneNS += d
	if r.FirstTokenNS != 0 {
		r.FirstTokenNS += d
	}
}
