package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/streamgauge/streamgauge/internal/hostload"
)

// Reading the process and machine state from /proc (Linux). Every reader
// returns 0 or "" when the file is not there, so the benchmark still runs
// elsewhere, with fewer numbers.

// processCPU returns this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// statusKB returns a "Name:   123 kB" field of /proc/<pid>/status in bytes
// (pid 0: this process). VmHWM is the peak resident set, VmRSS the current.
func statusKB(pid int, field string) int64 {
	path := "/proc/self/status"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		return kb << 10
	}
	return 0
}

// raiseFileLimit lifts the soft open-file limit to the hard one: 10,000
// streams need 10,000 sockets.
func raiseFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return lim.Cur
}

// Machine is what the numbers were measured on.
type Machine struct {
	CPUs       int        `json:"nproc"`
	CPUModel   string     `json:"cpu_model"`
	CPUMHz     string     `json:"cpu_mhz,omitempty"`
	Kernel     string     `json:"kernel,omitempty"`
	GoVersion  string     `json:"go_version"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	MemTotal   int64      `json:"mem_total_bytes,omitempty"`
	FileLimit  uint64     `json:"open_files_limit"`
	LoadAvg    [3]float64 `json:"load_average_at_start"`
	Date       time.Time  `json:"date"`
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		LoadAvg: hostload.Average(), Date: time.Now().UTC().Truncate(time.Second), FileLimit: raiseFileLimit()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				if m.CPUModel == "" {
					m.CPUModel = strings.TrimSpace(v)
				}
			case "cpu MHz":
				if m.CPUMHz == "" {
					m.CPUMHz = strings.TrimSpace(v)
				}
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemTotal = kb << 10
				}
			}
		}
	}
	return m
}
