//go:build linux

// Package realnet runs Debian's tinyproxy, squid and unbound for the
// integration tests: each the test's own process, in the foreground, with a
// config in a folder of its own, on a free loopback port of this host or of
// a network namespace the test made; killed with its process group when the
// test ends. No system service, no default config, nothing beyond loopback.
package realnet

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"egressprobe/internal/testnet"
)

// At is where a server runs: NS nil is this host's network; Port 0 is a
// free port.
type At struct {
	NS   *testnet.Netns
	Port int
}

// Server is a daemon a test started, listening on Addr.
type Server struct {
	Addr string // "127.0.0.1:PORT"
	Dir  string // its folder: config, pid file, logs

	at     At
	path   string                // its config file
	head   func(port int) string // the config's fixed part
	reload syscall.Signal        // what makes it reread the config
	logs   []string              // files shown when it fails to start
	argv   []string              // its command line
	cmd    *exec.Cmd             // the running process
	exited chan error            // its Wait
	out    *output               // its stdout and stderr
}

// output is a process's output, read while it writes.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) { o.mu.Lock(); defer o.mu.Unlock(); return o.b.Write(p) }
func (o *output) String() string              { o.mu.Lock(); defer o.mu.Unlock(); return o.b.String() }

// URL is the server as a proxy URL, http://Addr.
func (s *Server) URL() *url.URL { return &url.URL{Scheme: "http", Host: s.Addr} }

// NeedBinary returns the path of a Debian tool, skipping the test when it
// is missing, unless CI=true, where a missing tool is a failure.
func NeedBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		if p := filepath.Join(dir, name); IsExecutable(p) {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed (apt-get install -y %s); .ci/run installs it", name, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// IsExecutable says whether p is an executable regular file.
func IsExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// WorldDir is a temporary folder a daemon can use after it drops root for
// its own user (t.TempDir is 0700).
func WorldDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "egressprobe-realnet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WriteFile writes a file a daemon that dropped root can read.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// start runs s with its config head(port) + body until the test ends, and
// waits, bounded, for it to listen. A daemon that exits first is retried on
// a new port (unless the port is fixed): a port free a moment ago can be
// taken by another test's socket before the daemon binds it.
func (s *Server) start(t testing.TB, body string) {
	t.Helper()
	var why string
	for attempt := 0; attempt < 3; attempt++ {
		port := s.at.Port
		if port == 0 {
			port = testnet.FreePort(t)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		WriteFile(t, s.path, s.head(port)+body)
		if why = s.run(t); why == "" {
			return
		}
		for _, l := range s.logs {
			b, _ := os.ReadFile(l)
			why += "\n--- " + l + "\n" + string(b)
		}
		if s.at.Port != 0 {
			break
		}
	}
	t.Fatalf("%s did not start listening; last output:\n%s", s.argv[0], why)
}

// run starts one attempt; it returns "" once the daemon listens (within
// 20 s), else why not (and the daemon is killed).
func (s *Server) run(t testing.TB) string {
	t.Helper()
	argv := s.argv
	if s.at.NS != nil {
		s.cmd = s.at.NS.Command(argv[0], argv[1:]...)
	} else {
		s.cmd = exec.Command(argv[0], argv[1:]...)
	}
	s.out = &output{}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	s.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan<- error) { exited <- cmd.Wait() }(s.cmd, s.exited)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-s.exited:
			return fmt.Sprintf("exited: %v\n%s", err, s.out.String())
		default:
		}
		if s.listening(t) {
			t.Cleanup(s.kill)
			return ""
		}
	}
	s.kill()
	return "did not listen on " + s.Addr + " within 20s\n" + s.out.String()
}

// kill ends the whole process group (squid's helpers too) and waits.
func (s *Server) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// listening says whether a TCP connection to Addr opens, from where the
// server runs.
func (s *Server) listening(t testing.TB) bool {
	ok := false
	dial := func() {
		if c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond); err == nil {
			c.Close()
			ok = true
		}
	}
	if s.at.NS != nil {
		s.at.NS.Do(t, dial)
	} else {
		dial()
	}
	return ok
}

// Reload writes the config again with a new body (same port) and signals
// the daemon to reread it, as its service manager would.
func (s *Server) Reload(t testing.TB, body string) {
	t.Helper()
	port, _ := strconv.Atoi(s.Addr[len("127.0.0.1:"):])
	WriteFile(t, s.path, s.head(port)+body)
	if err := s.cmd.Process.Signal(s.reload); err != nil {
		t.Fatalf("reloading %s: %v\n%s", s.path, err, s.out.String())
	}
}
