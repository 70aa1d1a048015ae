package web

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The standard metrics of a Go program and of its process, in the names
// and with the meanings of Prometheus's Go client (client_golang's Go
// and process collectors), so that dashboards made for any Go exporter
// read them: go_* from the runtime, process_* from /proc on Linux (left
// out where there is none).

// processStart is when this process started, for process_start_time_seconds.
var processStart = sync.OnceValue(func() float64 {
	if t, ok := procStartTime(); ok {
		return t
	}
	return float64(time.Now().UnixNano()) / 1e9
})

func init() { processStart() }

// appendRuntime appends the go_* and process_* metrics.
func appendRuntime(b *bytes.Buffer, metric func(name, typ, help string)) {
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	gauge := func(name, help string, v float64) {
		metric(name, "gauge", help)
		b.WriteString(name + " " + num(v) + "\n")
	}
	counter := func(name, help string, v float64) {
		metric(name, "counter", help)
		b.WriteString(name + " " + num(v) + "\n")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	threads, _ := runtime.ThreadCreateProfile(nil)
	gauge("go_threads", "Number of OS threads created.", float64(threads))
	metric("go_info", "gauge", "Information about the Go environment.")
	b.WriteString(`go_info{version="` + labelEscaper.Replace(runtime.Version()) + "\"} 1\n")

	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&gc)
	metric("go_gc_duration_seconds", "summary", "A summary of the pause duration of garbage collection cycles.")
	for i, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		b.WriteString(`go_gc_duration_seconds{quantile="` + q + `"} ` + num(gc.PauseQuantiles[i].Seconds()) + "\n")
	}
	b.WriteString("go_gc_duration_seconds_sum " + num(gc.PauseTotal.Seconds()) + "\n")
	b.WriteString("go_gc_duration_seconds_count " + strconv.FormatInt(gc.NumGC, 10) + "\n")

	gauge("go_memstats_alloc_bytes", "Number of bytes allocated and still in use.", float64(ms.Alloc))
	counter("go_memstats_alloc_bytes_total", "Total number of bytes allocated, even if freed.", float64(ms.TotalAlloc))
	gauge("go_memstats_sys_bytes", "Number of bytes obtained from system.", float64(ms.Sys))
	counter("go_memstats_lookups_total", "Total number of pointer lookups.", float64(ms.Lookups))
	counter("go_memstats_mallocs_total", "Total number of mallocs.", float64(ms.Mallocs))
	counter("go_memstats_frees_total", "Total number of frees.", float64(ms.Frees))
	gauge("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and still in use.", float64(ms.HeapAlloc))
	gauge("go_memstats_heap_sys_bytes", "Number of heap bytes obtained from system.", float64(ms.HeapSys))
	gauge("go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used.", float64(ms.HeapIdle))
	gauge("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", float64(ms.HeapInuse))
	gauge("go_memstats_heap_released_bytes", "Number of heap bytes released to OS.", float64(ms.HeapReleased))
	gauge("go_memstats_heap_objects", "Number of allocated objects.", float64(ms.HeapObjects))
	gauge("go_memstats_stack_inuse_bytes", "Number of bytes in use by the stack allocator.", float64(ms.StackInuse))
	gauge("go_memstats_stack_sys_bytes", "Number of bytes obtained from system for stack allocator.", float64(ms.StackSys))
	gauge("go_memstats_mspan_inuse_bytes", "Number of bytes in use by mspan structures.", float64(ms.MSpanInuse))
	gauge("go_memstats_mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system.", float64(ms.MSpanSys))
	gauge("go_memstats_mcache_inuse_bytes", "Number of bytes in use by mcache structures.", float64(ms.MCacheInuse))
	gauge("go_memstats_mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system.", float64(ms.MCacheSys))
	gauge("go_memstats_buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table.", float64(ms.BuckHashSys))
	gauge("go_memstats_gc_sys_bytes", "Number of bytes used for garbage collection system metadata.", float64(ms.GCSys))
	gauge("go_memstats_other_sys_bytes", "Number of bytes used for other system allocations.", float64(ms.OtherSys))
	gauge("go_memstats_next_gc_bytes", "Number of heap bytes when next garbage collection will take place.", float64(ms.NextGC))
	gauge("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", float64(ms.LastGC)/1e9)

	cpu, rss, vsz, ok := procStat()
	if !ok {
		return
	}
	counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu)
	gauge("process_resident_memory_bytes", "Resident memory size in bytes.", rss)
	gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", vsz)
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds)))
	}
	if max, ok := procMaxFDs(); ok {
		gauge("process_max_fds", "Maximum number of open file descriptors.", max)
	}
	gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", processStart())
}

// clockTicks is the unit of /proc's CPU times: USER_HZ, 100 on every
// Linux system Go runs on.
const clockTicks = 100

// procFields returns the fields of /proc/self/stat after the command
// name (which is in parentheses and may hold spaces): state is the first.
func procFields() ([]string, bool) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return nil, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(string(data[i+1:]))
	return f, len(f) >= 22
}

// procStat returns the CPU seconds (user and system), the resident and
// the virtual memory of this process, from /proc/self/stat.
func procStat() (cpu, rss, vsz float64, ok bool) {
	f, ok := procFields()
	if !ok {
		return 0, 0, 0, false
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	v, _ := strconv.ParseFloat(f[20], 64)
	pages, _ := strconv.ParseFloat(f[21], 64)
	return (utime + stime) / clockTicks, pages * float64(os.Getpagesize()), v, true
}

// procStartTime returns when this process started, from its start time
// in clock ticks after boot (/proc/self/stat) and the boot time
// (/proc/stat's btime).
func procStartTime() (float64, bool) {
	f, ok := procFields()
	if !ok {
		return 0, false
	}
	start, err := strconv.ParseFloat(f[19], 64)
	if err != nil {
		return 0, false
	}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			boot, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, false
			}
			return boot + start/clockTicks, true
		}
	}
	return 0, false
}

// procMaxFDs returns the soft limit of open files, from
// /proc/self/limits.
func procMaxFDs() (float64, bool) {
	data, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, err := strconv.ParseFloat(f[0], 64)
				return v, err == nil
			}
		}
	}
	return 0, false
}
