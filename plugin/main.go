// Command out_oopsflow is the Fluent Bit output plugin: build it with
// "make plugin" (go build -buildmode=c-shared) and load out_oopsflow.so
// with "fluent-bit -e" or a plugins file. The logic lives in
// processor/fluentbit; this file adapts Fluent Bit's Go proxy ABI
// (fluent-bit-go, pinned to a7a013e: newer versions write past the
// plugin definition that Fluent Bit < 5.0 allocates).
//
// Every exported function recovers panics: a panic crossing into C would
// kill Fluent Bit. Nothing here calls signal.Notify or os.Exit: those
// belong to Fluent Bit.
package main

import "C"

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/oopsflow/oopsflow/processor/fluentbit"
)

// logf writes in Fluent Bit's log format to its standard error.
func logf(level, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] [%5s] [output:oopsflow] %s\n", time.Now().Format("2006/01/02 15:04:05"), level, fmt.Sprintf(format, args...))
}

// recovered turns a panic into a log line and the given return code.
func recovered(ret *int, code int, where string) {
	if r := recover(); r != nil {
		logf("error", "panic in %s (recovered, returning %d): %v\n%s", where, code, r, debug.Stack())
		*ret = code
	}
}

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) (ret int) {
	// Never -1: Fluent Bit frees def on -1 and keeps a dangling pointer.
	defer recovered(&ret, 0, "FLBPluginRegister")
	return output.FLBPluginRegister(def, "oopsflow", "Kernel oops assembly, known-bug classification and indexing")
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) (ret int) {
	defer recovered(&ret, output.FLB_ERROR, "FLBPluginInit")
	// Configuration keys can be read only here: the plugin struct is shared
	// by every instance and re-pointed at each Init.
	get := func(key string) string { return output.FLBPluginConfigKey(plugin, key) }
	cfg, err := fluentbit.ParseConfig(get)
	if err != nil {
		logf("error", "configuration: %v", err)
		return output.FLB_ERROR
	}
	log := slog.New(fluentbit.NewLogHandler(os.Stderr, cfg.ID, slog.LevelInfo))
	in, err := fluentbit.New(cfg, log)
	if err != nil {
		logf("error", "instance %q: %v", cfg.ID, err)
		return output.FLB_ERROR
	}
	output.FLBPluginSetContext(plugin, in)
	log.Info("ready", "output", cfg.Output)
	return output.FLB_OK
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) (ret int) {
	defer recovered(&ret, output.FLB_ERROR, "FLBPluginFlushCtx")
	in, ok := output.FLBPluginGetContext(ctx).(*fluentbit.Instance)
	if !ok {
		logf("error", "flush without an initialised instance")
		return output.FLB_ERROR
	}
	return handleChunk(in, data, int(length))
}

//export FLBPluginFlush
func FLBPluginFlush(data unsafe.Pointer, length C.int, tag *C.char) (ret int) {
	defer recovered(&ret, output.FLB_ERROR, "FLBPluginFlush")
	logf("error", "this Fluent Bit does not call FLBPluginFlushCtx; oopsflow needs Fluent Bit 1.4 or later")
	return output.FLB_ERROR
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) (ret int) {
	defer recovered(&ret, output.FLB_ERROR, "FLBPluginExitCtx")
	in, ok := output.FLBPluginGetContext(ctx).(*fluentbit.Instance)
	if !ok {
		return output.FLB_OK
	}
	if err := in.Exit(); err != nil {
		logf("error", "instance %q: exit: %v", in.ID, err)
	}
	st := in.Stats()
	logf("info", "instance %q stopped: %d chunks, %d records (%d skipped), %d acknowledged, %d redelivered chunks ignored, %d retries asked (%d unread), %d chunks never acknowledged", in.ID, st.Chunks, st.Records, st.Skipped, st.Acked, st.Duplicates, st.Retries, st.Refused, st.Pending)
	return output.FLB_OK
}

//export FLBPluginExit
func FLBPluginExit() (ret int) {
	defer recovered(&ret, output.FLB_ERROR, "FLBPluginExit")
	return output.FLB_OK
}

//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	defer func() {
		if r := recover(); r != nil {
			logf("error", "panic in FLBPluginUnregister (recovered): %v", r)
		}
	}()
	output.FLBPluginUnregister(def)
}

func main() {}
