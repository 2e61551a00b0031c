package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadBounded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "steps.json")
	os.WriteFile(p, []byte(strings.Repeat("x", 100)), 0o644)
	if b, err := readBounded(p, 100); err != nil || len(b) != 100 {
		t.Errorf("at the limit: %d bytes, %v", len(b), err)
	}
	if _, err := readBounded(p, 99); err == nil || !strings.Contains(err.Error(), "too large for a step-timing file") {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := readBounded(filepath.Join(t.TempDir(), "nope"), 99); err == nil || strings.Contains(err.Error(), "nope") {
		t.Errorf("a missing file: %v (the caller names it)", err)
	}
}
