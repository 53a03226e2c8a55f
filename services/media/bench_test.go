package media_test

import (
	"bufio"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/media/mediatest"
)

// BenchmarkProcess12MP turns a 12-megapixel phone photo (4000 × 3000 JPEG
// with EXIF, GPS and orientation 6) into its three stored sizes, one at a
// time as the upload route does. It reports photos a second and the peak
// memory while processing: the Go heap in use, sampled every millisecond,
// and the process's peak resident set (VmHWM, reset before the loop).
//
//	go test ./services/media -run '^$' -bench Process12MP -benchtime 10x
func BenchmarkProcess12MP(b *testing.B) {
	photo := mediatest.WithMetadata(mediatest.JPEG(mediatest.Picture(4000, 3000)), 6)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	resetPeakRSS()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		// runtime/metrics, unlike ReadMemStats, does not stop the world.
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
			metrics.Read(sample)
			if inuse := sample[0].Value.Uint64() + sample[1].Value.Uint64(); inuse > peak.Load() {
				peak.Store(inuse)
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		if _, err := media.Process(photo); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(done)
	b.ReportMetric(float64(len(photo))/1e6, "upload-MB")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "photos/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-over-idle-MB")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(rss/(1<<20), "peak-RSS-MB")
	}
}

// resetPeakRSS resets the kernel's record of the process's peak resident
// set (Linux; elsewhere nothing happens).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in bytes, or 0 where /proc is not there.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}
