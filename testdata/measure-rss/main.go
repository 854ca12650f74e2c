// Command measure-rss is the launcher through which the hostile tests run smsform (see
// measuredCommand in hostile_test.go):
//
//	measure-rss FILE BIN ARGS...
//
// runs BIN with ARGS on its own standard streams, writes BIN's peak RSS in bytes into FILE
// and exits with BIN's exit code. It is a small program of its own: Linux carries a parent's
// high-water mark over into a vfork()ed child when it execs, so BIN's peak, measured from
// here, starts at this launcher's few megabytes, not at the test process's hundreds.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: measure-rss FILE BIN ARGS...")
		os.Exit(125)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "measure-rss:", err)
		os.Exit(125)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if err := os.WriteFile(os.Args[1], []byte(strconv.FormatInt(ru.Maxrss<<10, 10)), 0o644); err != nil { // Maxrss is in KiB
		fmt.Fprintln(os.Stderr, "measure-rss:", err)
		os.Exit(125)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}
